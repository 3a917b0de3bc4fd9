using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace WebhookFunctions.Core.Auth;

/// <summary>Recently verified keys, by hash, for at most <see cref="AuthOptions.CacheSeconds"/>.</summary>
public sealed class ApiKeyCache(IMemoryCache cache, IOptions<AuthOptions> options)
{
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    public bool TryGet(string keyHash, out VerifiedKey? key) => cache.TryGetValue(CacheKey(keyHash), out key);

    public void Remember(string keyHash, VerifiedKey key, DateTimeOffset now)
    {
        if (_lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var expires = now + _lifetime;
        if (key.ExpiresAt is { } keyExpiry && keyExpiry < expires)
        {
            expires = keyExpiry;
        }

        cache.Set(CacheKey(keyHash), key, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
    }

    public void Forget(string keyHash) => cache.Remove(CacheKey(keyHash));

    private static string CacheKey(string keyHash) => "api-key:" + keyHash;
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
