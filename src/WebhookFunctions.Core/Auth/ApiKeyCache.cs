using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace WebhookFunctions.Core.Auth;

/// <summary>Recently verified keys, by hash, for at most <see cref="AuthOptions.CacheSeconds"/>.</summary>
public sealed class ApiKeyCache(IMemoryCache cache, IOptions<AuthOptions> options, TimeProvider clock)
{
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    public bool TryGet(string keyHash, out VerifiedKey? key)
    {
        // The memory cache evicts by the machine's clock; the service's clock, which every other
        // expiry here follows, decides whether an entry still counts.
        if (cache.TryGetValue(CacheKey(keyHash), out Entry? entry) && entry is not null)
        {
            if (clock.GetUtcNow() < entry.Until)
            {
                key = entry.Key;
                return true;
            }

            cache.Remove(CacheKey(keyHash));
        }

        key = null;
        return false;
    }

    public void Remember(string keyHash, VerifiedKey key, DateTimeOffset now)
    {
        var until = now + _lifetime;
        if (key.ExpiresAt is { } keyExpiry && keyExpiry < until)
        {
            until = keyExpiry;
        }

        if (until <= now)
        {
            return;
        }

        cache.Set(CacheKey(keyHash), new Entry(key, until), new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = until - now, Size = 1 });
    }

    public void Forget(string keyHash) => cache.Remove(CacheKey(keyHash));

    private static string CacheKey(string keyHash) => "api-key:" + keyHash;

    private sealed record Entry(VerifiedKey Key, DateTimeOffset Until);
}

/// <summary>A key that passed every check, with when its last use was last written.</summary>
public sealed class VerifiedKey(string merchantId, string keyId, DateTimeOffset? expiresAt, DateTimeOffset? lastUsedAt)
{
    private long _lastUsedTicks = lastUsedAt?.UtcTicks ?? 0;

    public string MerchantId { get; } = merchantId;

    public string KeyId { get; } = keyId;

    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    /// <summary>Claims the right to write lastUsedAt when the last write is at least <paramref name="interval"/> old.</summary>
    public bool TryClaimLastUsedWrite(DateTimeOffset now, TimeSpan interval)
    {
        var previous = Interlocked.Read(ref _lastUsedTicks);
        return now.UtcTicks - previous >= interval.Ticks
            && Interlocked.CompareExchange(ref _lastUsedTicks, now.UtcTicks, previous) == previous;
    }
}
