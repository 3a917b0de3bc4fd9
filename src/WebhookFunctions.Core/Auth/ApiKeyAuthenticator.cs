using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Auth;

/// <summary>
/// Turns an <c>Authorization</c> header value (<c>Bearer &lt;key&gt;</c>) into a <see cref="Caller"/>. Malformed keys and keys
/// with a bad checksum are refused before any storage call; other keys cost two point reads on a
/// cache miss and none on a hit, and a key storage refused is remembered for a few seconds.
/// </summary>
public sealed class ApiKeyAuthenticator(Tables tables, ApiKeyCache cache, TimeProvider clock, ILogger<ApiKeyAuthenticator> logger)
{
    private static readonly TimeSpan LastUsedInterval = TimeSpan.FromMinutes(1);

    /// <param name="authorization">The request's single Authorization header value; null when absent or repeated.</param>
    public async Task<Caller?> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        var key = BearerToken(authorization);
        if (!ApiKeyFormat.IsWellFormed(key))
        {
            return null;
        }

        var hash = ApiKeyFormat.Hash(key);
        var hashHex = Convert.ToHexStringLower(hash);
        var now = clock.GetUtcNow();
        var lookupBegan = cache.BeginLookup();

        if (cache.TryGet(hashHex, now, out var cached))
        {
            if (cached is null)
            {
                return null;
            }

            if (cached.ExpiresAt is { } expiry && expiry <= now)
            {
                cache.Forget(hashHex);
                return null;
            }

            await TouchAsync(cached, now, ETag.All, cancellationToken);
            return new Caller(cached.MerchantId, cached.KeyId, cached.ExpiresAt);
        }

        var lookup = await tables.ApiKeyHashes.GetEntityIfExistsAsync<ApiKeyHashEntity>(hashHex, ApiKeyHashEntity.Row, cancellationToken: cancellationToken);
        if (!lookup.HasValue || !CryptographicOperations.FixedTimeEquals(lookup.Value!.Hash, hash))
        {
            cache.RememberRefused(hashHex, now, lookupBegan);
            return null;
        }

        var index = lookup.Value;
        var metadata = await tables.ApiKeys.GetEntityIfExistsAsync<ApiKeyEntity>(index.MerchantId, index.KeyId, cancellationToken: cancellationToken);
        if (!metadata.HasValue)
        {
            cache.RememberRefused(hashHex, now, lookupBegan);
            return null;
        }

        var state = metadata.Value!;
        if (state.RevokedAt is not null || (state.ExpiresAt is { } expiresAt && expiresAt <= now))
        {
            // Revoked and expired are for good, so they are remembered like an unknown key.
            cache.RememberRefused(hashHex, now, lookupBegan);
            return null;
        }

        var verified = new VerifiedKey(index.MerchantId, index.KeyId, state.ExpiresAt, state.LastUsedAt);
        cache.Remember(hashHex, verified, now, lookupBegan);
        await TouchAsync(verified, now, state.ETag, cancellationToken);
        return new Caller(verified.MerchantId, verified.KeyId, verified.ExpiresAt);
    }

    /// <summary>Writes lastUsedAt at most once a minute per key; failing to record use never fails the request.</summary>
    private async Task TouchAsync(VerifiedKey key, DateTimeOffset now, ETag etag, CancellationToken cancellationToken)
    {
        if (!key.TryClaimLastUsedWrite(now, LastUsedInterval))
        {
            return;
        }

        var update = new TableEntity(key.MerchantId, key.KeyId) { ["LastUsedAt"] = Timestamps.Truncate(now) };
        try
        {
            await tables.ApiKeys.UpdateEntityAsync(update, etag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            // Another instance recorded the use first, or the key went away: either way nothing to do.
        }
        catch (RequestFailedException exception)
        {
            logger.LogWarning("Could not record last use of key {KeyId}: {Status}", key.KeyId, exception.Status);
        }
    }

    private static string? BearerToken(string? header)
    {
        const string Scheme = "Bearer ";
        return header is not null && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : null;
    }
}
