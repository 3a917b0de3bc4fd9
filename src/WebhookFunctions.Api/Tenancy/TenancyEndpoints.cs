using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Idempotency;
using WebhookFunctions.Api.Storage;
using WebhookFunctions.Api.Webhooks;

namespace WebhookFunctions.Api.Tenancy;

public sealed record ApplicationResponse(string Id, string Name, DateTimeOffset CreatedAt);

public sealed record ApiKeyList(IReadOnlyList<ApiKeyInfo> Items);

/// <summary>Merchant self-service: applications and API keys, through the same services as the admin CLI.</summary>
public sealed class TenancyEndpoints(
    ApiExecution execution, IdempotencyService idempotency, ApplicationService applications, ApiKeyService keys)
{
    public Task<IResult> CreateApplicationAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = Caller.Of(httpContext);
            return idempotency.RunAsync(httpContext, caller, async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, ct);
                var name = ReadName(body!.RootElement, allowed: ["name"]);
                var application = await applications.CreateAsync(caller.MerchantId, name, ct);
                return new IdempotentResult(ApiResults.Created($"/{Routes.Prefix}/v1/applications/{application.Id}", ToResponse(application)));
            }, cancellationToken);
        });

    public Task<IResult> ListApplicationsAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = Caller.Of(httpContext);
            var (limit, after) = PageTokens.ReadQuery(httpContext.Request);
            var (items, more) = await applications.ListAsync(caller.MerchantId, limit, after, cancellationToken);
            return ApiResults.Ok(new Page<ApplicationResponse>(items.Select(ToResponse).ToList(), more ? PageTokens.Encode(items[^1].Id) : null));
        });

    public Task<IResult> GetApplicationAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var application = await applications.GetOwnedAsync(Caller.Of(httpContext).MerchantId, applicationId, cancellationToken);
            return ApiResults.Ok(ToResponse(application));
        });

    public Task<IResult> CreateApiKeyAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, cancellationToken =>
        {
            var caller = Caller.Of(httpContext);
            return idempotency.RunAsync(httpContext, caller, async ct =>
            {
                using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, ct);
                var root = body!.RootElement;
                var name = ReadName(root, allowed: ["name", "expiresAt"]);
                var expiresAt = ReadExpiry(root);
                var created = await keys.CreateAsync(caller.MerchantId, name, expiresAt, ct);
                return new IdempotentResult(ApiResults.Created($"/{Routes.Prefix}/{Routes.ApiKeys}", created), new ReplaySecret.ApiKey(created.Id));
            }, cancellationToken);
        });

    public Task<IResult> ListApiKeysAsync(HttpContext httpContext) =>
        execution.RunAsync(httpContext, async cancellationToken =>
            ApiResults.Ok(new ApiKeyList(await keys.ListAsync(Caller.Of(httpContext).MerchantId, cancellationToken))));

    public Task<IResult> RevokeApiKeyAsync(HttpContext httpContext, string keyId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            await keys.RevokeAsync(Caller.Of(httpContext).MerchantId, keyId, allowLastActive: false, cancellationToken);
            return ApiResults.NoContent();
        });

    private static ApplicationResponse ToResponse(Application application) => new(application.Id, application.Name, application.CreatedAt);

    private static string ReadName(JsonElement body, string[] allowed)
    {
        var errors = body.EnumerateObject()
            .Where(p => !allowed.Contains(p.Name, StringComparer.Ordinal))
            .Select(p => new ErrorDetail(p.Name.Length > 64 ? p.Name[..64] : p.Name, "Is not a recognised property"))
            .ToList();
        if (!body.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            errors.Add(new ErrorDetail("name", $"Is required: a string of 1 to {MerchantService.MaxNameLength} characters"));
        }

        return errors.Count > 0 ? throw ApiException.BadRequest(errors) : name.GetString()!;
    }

    private static DateTimeOffset? ReadExpiry(JsonElement body)
    {
        if (!body.TryGetProperty("expiresAt", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
               && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : throw ApiException.BadRequest(new ErrorDetail("expiresAt", "Must be an ISO 8601 timestamp"));
    }
}
