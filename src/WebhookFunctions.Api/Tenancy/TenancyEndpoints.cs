using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Idempotency;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Api.Tenancy;

public sealed record ApplicationResponse(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>Merchant self-service: applications and API keys, through the same services as the admin CLI.</summary>
public sealed class TenancyEndpoints(
    ApiExecution execution, IdempotencyService idempotency, ApplicationService applications, ApiKeyService keys)
{
    public Task<IResult> CreateApplicationAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            return idempotency.RunAsync(httpContext, caller, IdempotencyScope.Of(ApiOperations.CreateApplication), async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, ct);
                var draft = TenancyValidator.ParseApplication(body!.RootElement);
                var application = await applications.CreateAsync(caller.MerchantId, draft.Name, ct);
                return new IdempotentResult(ApiResults.Created($"/{Routes.Prefix}/v1/applications/{application.Id}", ToResponse(application)));
            }, cancellationToken);
        });

    public Task<IResult> ListApplicationsAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            var (limit, after) = ListQuery.Read(httpContext.Request);
            var (items, more) = await applications.ListAsync(caller.MerchantId, limit, after, cancellationToken);
            return ApiResults.Ok(new Page<ApplicationResponse>(items.Select(ToResponse).ToList(), more ? PageTokens.Encode(items[^1].Id) : null));
        });

    public Task<IResult> GetApplicationAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var application = await applications.GetOwnedAsync(CallerContext.Of(httpContext).MerchantId, applicationId, cancellationToken);
            return ApiResults.Ok(ToResponse(application));
        });

    public Task<IResult> CreateApiKeyAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            return idempotency.RunAsync(httpContext, caller, IdempotencyScope.Of(ApiOperations.CreateApiKey), async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, ct);
                var draft = TenancyValidator.ParseApiKey(body!.RootElement);
                var created = await keys.CreateAsync(caller, draft.Name, draft.ExpiresAt, ct);
                return new IdempotentResult(ApiResults.Created($"/{Routes.Prefix}/{Routes.ApiKeys}", created), new ReplaySecret.ApiKey(created.Id));
            }, cancellationToken);
        });

    public Task<IResult> ListApiKeysAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var (limit, after) = ListQuery.Read(httpContext.Request);
            var (items, more) = await keys.ListAsync(CallerContext.Of(httpContext).MerchantId, limit, after, cancellationToken);
            return ApiResults.Ok(new Page<ApiKeyInfo>(items, more ? PageTokens.Encode(items[^1].Id) : null));
        });

    public Task<IResult> RevokeApiKeyAsync(HttpContext httpContext, string keyId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            await keys.RevokeAsync(CallerContext.Of(httpContext).MerchantId, keyId, allowLastActive: false, cancellationToken);
            return ApiResults.NoContent();
        });

    private static ApplicationResponse ToResponse(Application application) => new(application.Id, application.Name, application.CreatedAt);
}
