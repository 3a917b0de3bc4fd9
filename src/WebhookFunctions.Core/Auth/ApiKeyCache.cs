using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace WebhookFunctions.Core.Auth;

/// <summary>
/// Recently verified keys, by hash, for at most <see cref="AuthOptions.CacheSeconds"/>, and recently
/// refused ones (unknown, revoked, expired) for <see cref="AuthOptions.RefusedKeyCacheSeconds"/>, so a
/// key that does not work costs no storage read per request.
/// </summary>
/// <remarks>
/// A lookup reads storage, then remembers what it read; a revoke or a create on this instance may land
/// in between, and remembering the older answer afterwards would undo it (a revoked key working again
/// for the cache time). So every lookup notes <see cref="BeginLookup"/> before it reads, every revoke
/// and create moves that mark after its write, and a lookup remembers nothing if the mark has moved.
/// Checking again after storing the entry closes the gap between the check and the store: either the
/// change's removal comes after the store, or the second check sees the change and removes it.
/// One mark for all keys keeps this free of per-key state; the price is only that lookups in flight
/// during any key change on this instance (rare, human-paced) go uncached once.
/// </remarks>
public sealed class ApiKeyCache : IDisposable
{
    /// <summary>Refused keys are anyone's to invent, so their memory is bounded apart from everything else.</summary>
    public const int RefusedCapacity = 10_000;

    private readonly IMemoryCache _verified;
    private readonly MemoryCache _refused = new(new MemoryCacheOptions { SizeLimit = RefusedCapacity });
    private readonly TimeSpan _lifetime;
    private readonly TimeSpan _refusedLifetime;
    private long _changes;

    public ApiKeyCache(IMemoryCache cache, IOptions<AuthOptions> options)
    {
        _verified = cache;
        _lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);
        _refusedLifetime = TimeSpan.FromSeconds(options.Value.RefusedKeyCacheSeconds);
    }

    /// <summary>Taken before a lookup's first storage read and handed back to <see cref="Remember"/> or <see cref="RememberRefused"/>.</summary>
    public long BeginLookup() => Interlocked.Read(ref _changes);

    /// <summary>True when the answer is known without storage: <paramref name="key"/> is the verified key, or null for a refused one.</summary>
    public bool TryGet(string keyHash, DateTimeOffset now, out VerifiedKey? key)
    {
        // The memory cache evicts by the machine's clock; the service's clock, which every other
        // expiry here follows, decides whether an entry still counts.
        if (_verified.TryGetValue(CacheKey(keyHash), out CachedKey? entry) && entry is not null)
        {
            if (now < entry.Until)
            {
                key = entry.Key;
                return true;
            }

            _verified.Remove(CacheKey(keyHash));
        }

        key = null;
        return _refused.TryGetValue(keyHash, out DateTimeOffset until) && until > now;
    }

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

        if (expires <= now)
        {
            return;
        }

        _verified.Set(CacheKey(keyHash), new CachedKey(key, expires), new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = expires - now, Size = 1 });
        if (Interlocked.Read(ref _changes) != lookupBegan)
        {
            _verified.Remove(CacheKey(keyHash));
        }
    }

    public void RememberRefused(string keyHash, DateTimeOffset now, long lookupBegan)
    {
        if (_refusedLifetime <= TimeSpan.Zero || Interlocked.Read(ref _changes) != lookupBegan)
        {
            return;
        }

        // The deadline is kept on the caller's clock; the entry's own expiry only frees the memory.
        _refused.Set(keyHash, now + _refusedLifetime, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = _refusedLifetime, Size = 1 });
        if (Interlocked.Read(ref _changes) != lookupBegan)
        {
            _refused.Remove(keyHash);
        }
    }

    /// <summary>After a revoke is stored: the key fails at once here, and no lookup begun before can cache it again.</summary>
    public void Revoked(string keyHash)
    {
        Interlocked.Increment(ref _changes);
        _verified.Remove(CacheKey(keyHash));
    }

    /// <summary>
    /// After a key's lookup row is stored: it works at once here even if its hash was remembered as
    /// unknown. Other instances may refuse it for up to <see cref="AuthOptions.RefusedKeyCacheSeconds"/>,
    /// which only a client that sent the key before it existed could ever notice.
    /// </summary>
    public void Created(string keyHash)
    {
        Interlocked.Increment(ref _changes);
        _refused.Remove(keyHash);
    }

    /// <summary>Drops a cached key that has expired; nothing changed in storage, so lookups in flight are unaffected.</summary>
    public void Forget(string keyHash) => _verified.Remove(CacheKey(keyHash));

    public void Dispose() => _refused.Dispose();

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

/// <summary>A verified key and until when, on the service's clock, the cache may answer for it.</summary>
internal sealed record CachedKey(VerifiedKey Key, DateTimeOffset Until);
