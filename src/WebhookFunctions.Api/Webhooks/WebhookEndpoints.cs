using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Idempotency;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Api.Webhooks;

/// <summary>
/// The webhook operations as host-neutral handlers: both the Functions app and the standalone host
/// call these with the request's <see cref="HttpContext"/> and route values.
/// </summary>
public sealed class WebhookEndpoints(
    ApiExecution execution,
    IdempotencyService idempotency,
    WebhookService webhooks,
    WebhookValidator validator,
    EventCatalog catalog,
    WebhookTester tester,
    DeliveryStore deliveries,
    TimeProvider clock)
{
    public Task<IResult> CreateAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            Ids(applicationId);
            return idempotency.RunAsync(httpContext, caller, IdempotencyScope.Of(ApiOperations.CreateWebhook, applicationId), async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, ct);
                var draft = validator.ParseCreate(body!.RootElement);
                var (webhook, secret) = await webhooks.CreateAsync(caller, applicationId, draft, ct);
                var response = WebhookResponse.From(webhook, DeliveryStats.Empty) with { SigningSecret = secret };
                return new IdempotentResult(
                    ApiResults.Created(LocationOf(webhook), response, ETags.ToHttp(webhook.Version)),
                    new ReplaySecret.SigningSecret(webhook.Id, webhook.SecretVersion));
            }, cancellationToken);
        });

    public Task<IResult> ListAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            Ids(applicationId);
            var (limit, after) = ListQuery.Read(httpContext.Request);
            var page = await webhooks.ListAsync(caller, applicationId, limit, after, cancellationToken);
            var stats = await Task.WhenAll(page.Items.Select(w => deliveries.StatsAsync(w.Id, cancellationToken)));
            return ApiResults.Ok(new Page<WebhookResponse>(page.Items.Select((w, i) => WebhookResponse.From(w, stats[i])).ToList(), page.NextPageToken));
        });

    public Task<IResult> GetAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);

            // The counts are read beside the webhook, not after it, so a GET waits for one storage round trip
            // rather than two. They are used only once the webhook is found to be the caller's.
            var counts = Core.Storage.Ids.IsValid(webhookId) ? deliveries.StatsAsync(webhookId, cancellationToken) : null;
            Webhook webhook;
            try
            {
                webhook = await webhooks.GetAsync(caller, applicationId, webhookId, cancellationToken);
            }
            catch
            {
                counts?.ContinueWith(static read => _ = read.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw;
            }

            var stats = counts is null ? await deliveries.StatsAsync(webhook.Id, cancellationToken) : await counts;
            return ApiResults.Ok(WebhookResponse.From(webhook, stats), ETags.ToHttp(webhook.Version));
        });

    public Task<IResult> UpdateAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            Ids(applicationId, webhookId);
            var ifMatch = ETags.ReadIfMatch(httpContext.Request);
            using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, cancellationToken);
            var patch = validator.ParsePatch(body!.RootElement);
            var webhook = await webhooks.UpdateAsync(caller, applicationId, webhookId, patch, ifMatch, cancellationToken);
            return ApiResults.Ok(await ResponseOf(webhook, cancellationToken), ETags.ToHttp(webhook.Version));
        });

    public Task<IResult> DeleteAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            var ifMatch = ETags.ReadIfMatch(httpContext.Request);
            await webhooks.DeleteAsync(caller, applicationId, webhookId, ifMatch, cancellationToken);
            return ApiResults.NoContent();
        });

    public Task<IResult> RotateSecretAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            Ids(applicationId, webhookId);
            return idempotency.RunAsync(httpContext, caller, IdempotencyScope.Of(ApiOperations.RotateWebhookSecret, applicationId, webhookId), async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: false, ct);
                var grace = WebhookValidator.ParseRotation(body?.RootElement);
                var (webhook, secret) = await webhooks.RotateSecretAsync(caller, applicationId, webhookId, grace, ct);
                var response = new RotatedSecretResponse(secret, webhook.KeyFingerprint, webhook.PreviousSecretExpiresAt ?? clock.GetUtcNow());
                return new IdempotentResult(
                    ApiResults.Ok(response, ETags.ToHttp(webhook.Version)),
                    new ReplaySecret.SigningSecret(webhook.Id, webhook.SecretVersion));
            }, cancellationToken);
        });

    public Task<IResult> TestAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            Ids(applicationId, webhookId);
            return idempotency.RunAsync(httpContext, caller, IdempotencyScope.Of(ApiOperations.TestWebhook, applicationId, webhookId), async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: false, ct);
                WebhookValidator.RequireNoProperties(body?.RootElement);
                var webhook = await webhooks.GetAsync(caller, applicationId, webhookId, ct);
                return new IdempotentResult(ApiResults.Ok(await tester.SendAsync(webhook, ct)));
            }, cancellationToken);
        });

    public Task<IResult> ListEventTypesAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, _ =>
        {
            CallerContext.Of(httpContext);
            var body = new EventTypeList(catalog.Names.Select(n => new EventTypeResponse(n)).ToList());
            return Task.FromResult(ApiResults.Ok(body));
        });

    /// <summary>The webhook with its delivery counts, which live apart from it so that delivery never changes its ETag.</summary>
    private async Task<WebhookResponse> ResponseOf(Webhook webhook, CancellationToken cancellationToken) =>
        WebhookResponse.From(webhook, await deliveries.StatsAsync(webhook.Id, cancellationToken));

    private static string LocationOf(Webhook webhook) =>
        $"/{Routes.Prefix}/v1/applications/{webhook.ApplicationId}/webhooks/{webhook.Id}";

    /// <summary>Checks route ids before the body is read, so a bad id is reported as such.</summary>
    private static void Ids(string applicationId, string? webhookId = null)
    {
        var errors = new List<ErrorDetail>();
        if (!Core.Storage.Ids.IsValid(applicationId))
        {
            errors.Add(new ErrorDetail("applicationId", "Must be a lowercase UUID"));
        }

        if (webhookId is not null && !Core.Storage.Ids.IsValid(webhookId))
        {
            errors.Add(new ErrorDetail("webhookId", "Must be a lowercase UUID"));
        }

        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }
    }
}
