using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Limits;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Auth;

/// <summary>Creates, lists and revokes API keys; shared by the admin CLI and the API.</summary>
public sealed class ApiKeyService(Tables tables, ApiKeyCache cache, TimeProvider clock, IOptions<QuotaOptions> quotas)
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(731);

    private readonly int _maxActive = quotas.Value.MaxActiveKeysPerMerchant;

    /// <summary>
    /// A key made with another key, over the API. A key may not make one that outlives it: when the
    /// calling key expires, the new key must have an expiry no later than the caller's. An absent
    /// expiry is refused rather than quietly shortened, so nobody gets a key that ends sooner than
    /// they asked for without being told.
    /// </summary>
    public Task<CreatedApiKey> CreateAsync(Caller caller, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        if (caller.KeyExpiresAt is { } limit)
        {
            if (expiresAt is null)
            {
                throw new ValidationException(new ErrorDetail("expiresAt",
                    $"Is required, at most {ApiJson.Format(limit)}: the calling key expires then, and a key cannot create a key that outlives it"));
            }

            if (Timestamps.Truncate(expiresAt.Value) > limit)
            {
                throw new ValidationException(new ErrorDetail("expiresAt",
                    $"Must be at most {ApiJson.Format(limit)}, when the calling key expires: a key cannot create a key that outlives it"));
            }
        }

        return CreateAsync(caller.MerchantId, name, expiresAt, cancellationToken);
    }

    /// <summary>A key made by an operator (admin CLI) or the demo seeder: no calling key bounds it.</summary>
    public async Task<CreatedApiKey> CreateAsync(string merchantId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        Tenancy.MerchantService.RequireName(name);
        var now = Timestamps.Truncate(clock.GetUtcNow());
        if (expiresAt is { } expiry && (expiry <= now || expiry > now + MaxLifetime))
        {
            throw new ValidationException(new ErrorDetail("expiresAt", "Must be in the future and at most 2 years ahead"));
        }

        var key = ApiKeyFormat.Generate();
        var hash = ApiKeyFormat.Hash(key);
        var metadata = new ApiKeyEntity
        {
            PartitionKey = merchantId,
            RowKey = Ids.New(),
            Name = name,
            KeyPrefix = ApiKeyFormat.DisplayPrefix(key),
            KeyHash = Convert.ToHexStringLower(hash),
            CreatedAt = now,
            ExpiresAt = expiresAt is { } e ? Timestamps.Truncate(e) : null,
        };

        // Metadata (with the merchant's active keys, so the quota holds) first: a key whose lookup row
        // never got written simply does not work, whereas the reverse order could leave a working key
        // that no list shows and nobody can revoke.
        await OptimisticConcurrency.RunAsync(async ct =>
        {
            var (counter, active) = await ReadActiveAsync(merchantId, ct);
            active.RemoveExpired(now);
            if (active.Count >= _maxActive)
            {
                throw new ConflictException(
                    $"This merchant already has the maximum of {_maxActive} active API keys ({QuotaOptions.Section}:{nameof(QuotaOptions.MaxActiveKeysPerMerchant)}). Revoke one first.");
            }

            active.Add(metadata.RowKey, metadata.ExpiresAt);
            await SubmitAsync([new(TableTransactionActionType.Add, metadata), CounterAction(merchantId, counter, active)], ct);
            return true;
        }, cancellationToken);

        try
        {
            await tables.ApiKeyHashes.AddEntityAsync(
                new ApiKeyHashEntity { PartitionKey = metadata.KeyHash, MerchantId = merchantId, KeyId = metadata.RowKey, Hash = hash },
                cancellationToken);
        }
        catch
        {
            await OptimisticConcurrency.RunAsync(async ct =>
            {
                var (counter, active) = await ReadActiveAsync(merchantId, ct);
                active.Remove(metadata.RowKey);
                await SubmitAsync([new(TableTransactionActionType.Delete, metadata, ETag.All), CounterAction(merchantId, counter, active)], ct);
                return true;
            }, CancellationToken.None);
            throw;
        }

        cache.Created(metadata.KeyHash);
        return new CreatedApiKey(metadata.RowKey, key, metadata.KeyPrefix, metadata.Name, metadata.CreatedAt, metadata.ExpiresAt);
    }

    /// <summary>A page of the merchant's keys, oldest first, revoked ones included; <c>More</c> when another page follows.</summary>
    public async Task<(IReadOnlyList<ApiKeyInfo> Items, bool More)> ListAsync(string merchantId, int limit, string? afterId, CancellationToken cancellationToken)
    {
        var filter = afterId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey lt {ApiKeyCounterEntity.Row}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {afterId} and RowKey lt {ApiKeyCounterEntity.Row}");
        var items = new List<ApiKeyInfo>(limit + 1);
        await foreach (var entity in tables.ApiKeys.QueryAsync<ApiKeyEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            items.Add(ToInfo(entity));
            if (items.Count > limit)
            {
                items.RemoveAt(limit);
                return (items, true);
            }
        }

        return (items, false);
    }

    /// <summary>
    /// Revokes a key; revoking a revoked key is a no-op. Unless <paramref name="allowLastActive"/>,
    /// refuses to revoke the merchant's last active key, so a merchant cannot lock themselves out.
    /// </summary>
    public Task<RevokedApiKey> RevokeAsync(string merchantId, string keyId, bool allowLastActive, CancellationToken cancellationToken)
    {
        Ids.Require(keyId, "keyId");
        return OptimisticConcurrency.RunAsync(async ct =>
        {
            var now = Timestamps.Truncate(clock.GetUtcNow());
            var (counter, active) = await ReadActiveAsync(merchantId, ct);
            var found = await tables.ApiKeys.GetEntityIfExistsAsync<ApiKeyEntity>(merchantId, keyId, cancellationToken: ct);
            if (!found.HasValue)
            {
                throw new NotFoundException($"API key '{keyId}' does not exist.");
            }

            var entity = found.Value!;
            if (entity.RevokedAt is { } revokedAt)
            {
                // Perhaps an earlier try of this revoke stored it and then failed: the cache still has to hear of it.
                cache.Revoked(entity.KeyHash);
                return new RevokedApiKey(keyId, revokedAt);
            }

            // The guard reads the same row the write below replaces under its ETag, so of two racing
            // revokes the second is tried again on the first one's result rather than on what both saw.
            // An expired key is not active: it neither counts as the other key that keeps the merchant
            // in, nor is guarded itself (revoking it takes nothing away).
            var isActive = entity.ExpiresAt is null || entity.ExpiresAt > now;
            if (!allowLastActive && isActive && !active.AnyActiveOtherThan(keyId, now))
            {
                throw new ConflictException("This is the merchant's last active API key. Create another key before revoking it.");
            }

            active.Remove(keyId);
            active.RemoveExpired(now);
            var update = new TableEntity(merchantId, keyId) { ["RevokedAt"] = now };
            await SubmitAsync([new(TableTransactionActionType.UpdateMerge, update, ETag.All), CounterAction(merchantId, counter, active)], ct);
            cache.Revoked(entity.KeyHash);
            return new RevokedApiKey(keyId, now);
        }, cancellationToken);
    }

    /// <summary>
    /// The merchant's counter row and the keys it lists. A merchant whose keys predate the counter has
    /// none yet: its keys are read once, and the first create or revoke adds the row (a racing first
    /// write makes the add fail, and the loser reads the row the winner wrote).
    /// </summary>
    private async Task<(ApiKeyCounterEntity? Counter, ActiveKeySet Active)> ReadActiveAsync(string merchantId, CancellationToken cancellationToken)
    {
        var found = await tables.ApiKeys.GetEntityIfExistsAsync<ApiKeyCounterEntity>(merchantId, ApiKeyCounterEntity.Row, cancellationToken: cancellationToken);
        if (found.HasValue)
        {
            return (found.Value, ActiveKeySet.Parse(found.Value!.Keys));
        }

        var active = ActiveKeySet.Empty();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey lt {ApiKeyCounterEntity.Row}");
        await foreach (var key in tables.ApiKeys.QueryAsync<ApiKeyEntity>(filter, select: ["RowKey", "RevokedAt", "ExpiresAt"], cancellationToken: cancellationToken))
        {
            if (key.RevokedAt is null)
            {
                active.Add(key.RowKey, key.ExpiresAt);
            }
        }

        return (null, active);
    }

    private static TableTransactionAction CounterAction(string merchantId, ApiKeyCounterEntity? counter, ActiveKeySet active)
    {
        var next = new ApiKeyCounterEntity { PartitionKey = merchantId, Keys = active.Format() };
        return counter is null
            ? new TableTransactionAction(TableTransactionActionType.Add, next)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, counter.ETag);
    }

    /// <summary>A transaction that failed because another writer moved the counter first is tried again.</summary>
    private async Task SubmitAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await tables.ApiKeys.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412)
        {
            throw new WriteConflictException();
        }
    }

    internal static ApiKeyInfo ToInfo(ApiKeyEntity entity) =>
        new(entity.RowKey, entity.Name, entity.KeyPrefix, entity.CreatedAt, entity.ExpiresAt, entity.LastUsedAt, entity.RevokedAt);
}
