using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Idempotency;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Api.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> for the operations that create or change something. The first request
/// with a key claims it with an insert, so of two concurrent requests exactly one runs; a later
/// request with the same key, merchant, <see cref="IdempotencyScope"/> and body gets the first response back.
/// Only successful responses are kept, so a request that failed can be retried with the same key.
/// </summary>
public sealed class IdempotencyService(
    Tables tables, ISecretStore secrets, TimeProvider clock, IOptions<ApiOptions> apiOptions, ILogger<IdempotencyService> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Retention = IdempotencyEntity.Retention;

    private static readonly TimeSpan BookkeepingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A pending claim outlives the request deadline by this much before others may take it over.</summary>
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(15);

    private readonly TimeSpan _lease = TimeSpan.FromSeconds(apiOptions.Value.RequestTimeoutSeconds) + LeaseMargin;

    public async Task<IResult> RunAsync(
        HttpContext httpContext,
        Caller caller,
        IdempotencyScope scope,
        Func<CancellationToken, Task<IdempotentResult>> handler,
        CancellationToken cancellationToken)
    {
        var key = ReadKey(httpContext.Request);
        if (key is null)
        {
            return Protected(await handler(cancellationToken));
        }

        var body = await RequestBody.BufferAsync(httpContext.Request, cancellationToken);
        var claim = new IdempotencyEntity
        {
            PartitionKey = caller.MerchantId,
            RowKey = Hex(Encoding.UTF8.GetBytes($"{scope.Key}\n{key}")),
            RequestHash = Hex(body.Span),
        };

        var earlier = await ClaimAsync(claim, cancellationToken);
        if (earlier is not null)
        {
            return await ReplayAsync(earlier, claim.RequestHash, cancellationToken);
        }

        IdempotentResult outcome;
        try
        {
            outcome = await handler(cancellationToken);
        }
        catch
        {
            await ReleaseAsync(claim);
            throw;
        }

        if (outcome.Result is IJsonBodyResult { StatusCode: >= 200 and < 300 } success)
        {
            await CompleteAsync(claim, success, outcome.Secret);
        }
        else
        {
            await ReleaseAsync(claim);
        }

        return Protected(outcome);
    }

    /// <summary>A response that carries a secret or a key must not be kept by any cache, first time or replayed.</summary>
    private static IResult Protected(IdempotentResult outcome) =>
        outcome.Secret is null ? outcome.Result : ApiResults.NoStore(outcome.Result);

    /// <summary>Null when the key is absent; a 400 when it is present but unusable.</summary>
    private static string? ReadKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderName, out var values))
        {
            return null;
        }

        var value = values.Count == 1 ? values[0] : null;
        if (value is null || value.Length is 0 or > MaxKeyLength || value.Any(c => c is < '\x21' or > '\x7e'))
        {
            throw ApiException.BadRequest(new ErrorDetail(HeaderName,
                $"Must be sent once, 1 to {MaxKeyLength} visible ASCII characters with no spaces (a UUID is a good choice)"));
        }

        return value;
    }

    /// <summary>Claims the key, or returns the live record of the request that already has it.</summary>
    private Task<IdempotencyEntity?> ClaimAsync(IdempotencyEntity claim, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync<IdempotencyEntity?>(async ct =>
        {
            var table = tables.Idempotency;
            var now = clock.GetUtcNow();
            claim.State = IdempotencyEntity.Pending;
            claim.CreatedAt = now;
            claim.LeaseExpiresAt = now + _lease;
            try
            {
                claim.ETag = (await table.AddEntityAsync(claim, ct)).Headers.ETag ?? default;
                return null;
            }
            catch (RequestFailedException e) when (e.Status == StatusCodes.Status409Conflict)
            {
            }

            var existing = await table.GetEntityIfExistsAsync<IdempotencyEntity>(claim.PartitionKey, claim.RowKey, cancellationToken: ct);
            if (!existing.HasValue || existing.Value is not { } record)
            {
                // Let go between our insert and our read: try the insert again.
                throw new WriteConflictException();
            }

            var expired = record.CreatedAt + Retention <= now;
            var abandoned = record.State == IdempotencyEntity.Pending && record.LeaseExpiresAt <= now;
            if (!expired && !abandoned)
            {
                return record;
            }

            try
            {
                claim.ETag = (await table.UpdateEntityAsync(claim, record.ETag, TableUpdateMode.Replace, ct)).Headers.ETag ?? default;
                return null;
            }
            catch (RequestFailedException e) when (e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
                // Someone else took it over or let it go first; look again.
                throw new WriteConflictException();
            }
        }, cancellationToken);

    private async Task<IResult> ReplayAsync(IdempotencyEntity record, string requestHash, CancellationToken cancellationToken)
    {
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(record.RequestHash), Encoding.ASCII.GetBytes(requestHash)))
        {
            throw ApiException.Conflict(
                "This Idempotency-Key was already used with a different request body. Use a new key for a different request.",
                new ErrorDetail(HeaderName, "Was used with a different request body"));
        }

        if (record.State == IdempotencyEntity.Pending)
        {
            throw new ApiException(StatusCodes.Status409Conflict,
                "A request with this Idempotency-Key is still being processed. Retry shortly to get its response.",
                [new ErrorDetail(HeaderName, "Is in use by a request still in progress")])
            {
                RetryAfter = TimeSpan.FromSeconds(1),
            };
        }

        if (record.ApiKeyId is not null)
        {
            throw ApiException.Conflict(
                $"This Idempotency-Key already created API key '{record.ApiKeyId}'. A key is shown only once and is never stored, "
                + "so it cannot be shown again; if the first response was lost, revoke that key and create a new one with a new Idempotency-Key.",
                new ErrorDetail(HeaderName, "Already created an API key, which cannot be shown again"));
        }

        var body = JsonNode.Parse(record.ResponseBody ?? "null") ?? new JsonObject();
        if (record.SecretWebhookId is not null && body is JsonObject json)
        {
            var secret = await secrets.GetAsync(SecretNames.ForWebhook(record.SecretWebhookId), record.SecretVersion, cancellationToken)
                ?? throw ApiException.Conflict(
                    $"This Idempotency-Key's request succeeded, but webhook '{record.SecretWebhookId}' has since been deleted, "
                    + "or its secret rotated twice more, so that signing secret cannot be shown again.",
                    new ErrorDetail(HeaderName, "Refers to a signing secret that no longer exists"));
            json[ReplaySecret.SigningSecretProperty] = secret;
            return ApiResults.NoStore(ApiResults.Replayed(record.StatusCode, body, record.ResponseETag, record.Location));
        }

        return ApiResults.Replayed(record.StatusCode, body, record.ResponseETag, record.Location);
    }

    private async Task CompleteAsync(IdempotencyEntity claim, IJsonBodyResult result, ReplaySecret? secret)
    {
        var body = result.ToJsonNode();
        if (secret is not null && body is JsonObject json)
        {
            // Blanked rather than removed, so a replay puts the secret back in its place.
            json[secret.Property] = null;
        }

        claim.State = IdempotencyEntity.Completed;
        claim.StatusCode = result.StatusCode;
        claim.ResponseBody = body?.ToJsonString();
        claim.Location = result.Location;
        claim.ResponseETag = result.ETag;
        claim.SecretWebhookId = (secret as ReplaySecret.SigningSecret)?.WebhookId;
        claim.SecretVersion = (secret as ReplaySecret.SigningSecret)?.Version;
        claim.ApiKeyId = (secret as ReplaySecret.ApiKey)?.KeyId;
        try
        {
            using var timeout = new CancellationTokenSource(BookkeepingTimeout);
            await tables.Idempotency.UpdateEntityAsync(claim, claim.ETag, TableUpdateMode.Replace, timeout.Token);
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException or HttpRequestException)
        {
            // The work is done and the client gets its response; only a retry after the lease
            // would repeat it. Say so rather than fail a request that succeeded.
            logger.LogWarning("Could not record the response for an Idempotency-Key of merchant {MerchantId} ({ExceptionType})",
                claim.PartitionKey, e.GetType().Name);
        }
    }

    /// <summary>Lets a failed request's key go, so the client can retry with it.</summary>
    private async Task ReleaseAsync(IdempotencyEntity claim)
    {
        try
        {
            using var timeout = new CancellationTokenSource(BookkeepingTimeout);
            await tables.Idempotency.DeleteEntityAsync(claim.PartitionKey, claim.RowKey, claim.ETag, timeout.Token);
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException or HttpRequestException)
        {
            logger.LogWarning("Could not release an Idempotency-Key of merchant {MerchantId} ({ExceptionType}); it frees itself when its lease ends",
                claim.PartitionKey, e.GetType().Name);
        }
    }

    private static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
