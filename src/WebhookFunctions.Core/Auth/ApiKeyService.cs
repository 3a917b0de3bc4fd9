using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Auth;

/// <summary>Creates, lists and revokes API keys; shared by the admin CLI and the API.</summary>
public sealed class ApiKeyService(Tables tables, ApiKeyCache cache, TimeProvider clock)
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(731);

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

        // Metadata first: a key whose lookup row never got written simply does not work, whereas
        // the reverse order could leave a working key that no list shows and nobody can revoke.
        await tables.ApiKeys.AddEntityAsync(metadata, cancellationToken);
        try
        {
            await tables.ApiKeyHashes.AddEntityAsync(
                new ApiKeyHashEntity { PartitionKey = metadata.KeyHash, MerchantId = merchantId, KeyId = metadata.RowKey, Hash = hash },
                cancellationToken);
        }
        catch
        {
            await tables.ApiKeys.DeleteEntityAsync(merchantId, metadata.RowKey, ETag.All, CancellationToken.None);
            throw;
        }

        return new CreatedApiKey(metadata.RowKey, key, metadata.KeyPrefix, metadata.Name, metadata.CreatedAt, metadata.ExpiresAt);
    }

    /// <summary>A page of the merchant's keys, oldest first, revoked ones included; <c>More</c> when another page follows.</summary>
    public async Task<(IReadOnlyList<ApiKeyInfo> Items, bool More)> ListAsync(string merchantId, int limit, string? afterId, CancellationToken cancellationToken)
    {
        var filter = afterId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {merchantId}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey gt {afterId}");
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
    public async Task<RevokedApiKey> RevokeAsync(string merchantId, string keyId, bool allowLastActive, CancellationToken cancellationToken)
    {
        Ids.Require(keyId, "keyId");
        var found = await tables.ApiKeys.GetEntityIfExistsAsync<ApiKeyEntity>(merchantId, keyId, cancellationToken: cancellationToken);
        if (!found.HasValue)
        {
            throw new NotFoundException($"API key '{keyId}' does not exist.");
        }

        var entity = found.Value!;
        if (entity.RevokedAt is { } revokedAt)
        {
            return new RevokedApiKey(keyId, revokedAt);
        }

        var now = Timestamps.Truncate(clock.GetUtcNow());
        if (!allowLastActive)
        {
            if (!await HasOtherActiveKeyAsync(merchantId, keyId, now, cancellationToken))
            {
                throw new ConflictException("This is the merchant's last active API key. Create another key before revoking it.");
            }
        }

        entity.RevokedAt = now;
        await tables.ApiKeys.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
        cache.Forget(entity.KeyHash);
        return new RevokedApiKey(keyId, now);
    }

    /// <summary>Stops at the first other key that is neither revoked nor expired, rather than reading the whole partition.</summary>
    private async Task<bool> HasOtherActiveKeyAsync(string merchantId, string keyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {merchantId} and RowKey ne {keyId}");
        await foreach (var key in tables.ApiKeys.QueryAsync<ApiKeyEntity>(filter, select: ["RowKey", "RevokedAt", "ExpiresAt"], cancellationToken: cancellationToken))
        {
            if (key.RevokedAt is null && (key.ExpiresAt is null || key.ExpiresAt > now))
            {
                return true;
            }
        }

        return false;
    }

    internal static ApiKeyInfo ToInfo(ApiKeyEntity entity) =>
        new(entity.RowKey, entity.Name, entity.KeyPrefix, entity.CreatedAt, entity.ExpiresAt, entity.LastUsedAt, entity.RevokedAt);
}
