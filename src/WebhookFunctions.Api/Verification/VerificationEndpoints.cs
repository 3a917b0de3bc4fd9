using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Verification;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Api.Verification;

/// <summary>VerifyWebhook (a merchant asks for a new challenge) and the anonymous link a webhook's owner opens.</summary>
public sealed class VerificationEndpoints(ApiExecution execution, VerificationService verification, DeliveryStore deliveries)
{
    public Task<IResult> RequestAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            if (!Core.Storage.Ids.IsValid(webhookId))
            {
                throw new ValidationException([new ErrorDetail("webhookId", "Must be a lowercase UUID")]);
            }

            using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: false, cancellationToken);
            WebhookValidator.RequireNoProperties(body?.RootElement);
            var webhook = await verification.RequestAsync(caller, applicationId, webhookId, cancellationToken);
            var response = WebhookResponse.From(webhook, await deliveries.StatsAsync(webhook.Id, cancellationToken));
            return ApiResults.Accepted($"/{Routes.Prefix}/v1/applications/{webhook.ApplicationId}/webhooks/{webhook.Id}", response);
        });

    /// <summary>No key: whoever holds the link is the owner's browser or script. Not cached anywhere: it works once.</summary>
    public Task<IResult> ConfirmAsync(HttpContext httpContext, string token) =>
        execution.RunAsync(httpContext, async cancellationToken =>
            ApiResults.NoStore(ApiResults.Ok(await verification.ConfirmAsync(token, cancellationToken))));
}
