using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace WebhookFunctions.Core.Auth;

/// <summary>Recently verified keys, by hash, for at most <see cref="AuthOptions.CacheSeconds"/>.</summary>
/// <remarks>
/// A lookup reads storage, then remembers what it read; a revoke on this instance may land
/// in between, and remembering the older answer afterwards would undo it (a revoked key working again
/// for the cache time). So every lookup notes <see cref="BeginLookup"/> before it reads, every revoke
/// moves that mark after its write, and a lookup remembers nothing if the mark has moved.
/// Checking again after storing the entry closes the gap between the check and the store: either the
/// change's removal comes after the store, or the second check sees the change and removes it.
/// One mark for all keys keeps this free of per-key state; the price is only that lookups in flight
/// during any revoke on this instance (rare, human-paced) go uncached once.
/// </remarks>
public sealed class ApiKeyCache(IMemoryCache cache, IOptions<AuthOptions> options)
{
    private readonly IMemoryCache _verified = cache;
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);
    private long _changes;

    /// <summary>Taken before a lookup's first storage read and handed back to <see cref="Remember"/>.</summary>
    public long BeginLookup() => Interlocked.Read(ref _changes);

    public bool TryGet(string keyHash, out VerifiedKey? key) => _verified.TryGetValue(CacheKey(keyHash), out key);

    public void Remember(string keyHash, VerifiedKey key, DateTimeOffset now, long lookupBegan)
    {
        if (_lifetime <= TimeSpan.Zero || Interlocked.Read(ref _changes) != lookupBegan)
        {
            return;
        }

        var expires = now + _lifetime;
        if (key.ExpiresAt is { } keyExpiry && keyExpiry < expires)
        {
            expires = keyExpiry;
        }

        _verified.Set(CacheKey(keyHash), key, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
        if (Interlocked.Read(ref _changes) != lookupBegan)
        {
            _verified.Remove(CacheKey(keyHash));
        }
    }

    /// <summary>After a revoke is stored: the key fails at once here, and no lookup begun before can cache it again.</summary>
    public void Revoked(string keyHash)
    {
        Interlocked.Increment(ref _changes);
        _verified.Remove(CacheKey(keyHash));
    }

    /// <summary>Drops a cached key that has expired; nothing changed in storage, so lookups in flight are unaffected.</summary>
    public void Forget(string keyHash) => _verified.Remove(CacheKey(keyHash));

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
