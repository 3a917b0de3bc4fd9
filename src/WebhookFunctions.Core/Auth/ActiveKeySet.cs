using System.Globalization;

namespace WebhookFunctions.Core.Auth;

/// <summary>
/// The keys of one merchant that are not revoked, each with its expiry. Expiry is kept here rather than
/// only on the key because a key stops being active by time alone, with no write to count it down:
/// holding the expiries lets one read of one row say exactly how many keys are active now, for the
/// quota, and whether another key would still work, for the last-key guard. Stored as
/// <c>id</c> or <c>id@unix-milliseconds</c>, comma-separated.
/// </summary>
public sealed class ActiveKeySet
{
    private readonly Dictionary<string, DateTimeOffset?> _keys;

    private ActiveKeySet(Dictionary<string, DateTimeOffset?> keys) => _keys = keys;

    public static ActiveKeySet Empty() => new([]);

    public static ActiveKeySet Parse(string? stored)
    {
        var keys = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var entry in (stored ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = entry.IndexOf('@', StringComparison.Ordinal);
            keys[at < 0 ? entry : entry[..at]] = at < 0
                ? null
                : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(entry[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
        }

        return new ActiveKeySet(keys);
    }

    public string Format() => string.Join(',', _keys.Select(k => k.Value is { } expiry
        ? k.Key + "@" + expiry.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
        : k.Key));

    public int Count => _keys.Count;

    public void Add(string keyId, DateTimeOffset? expiresAt) => _keys[keyId] = expiresAt;

    public bool Remove(string keyId) => _keys.Remove(keyId);

    /// <summary>Drops keys that have expired: they can never work again, so they hold no slot.</summary>
    public void RemoveExpired(DateTimeOffset now)
    {
        foreach (var expired in _keys.Where(k => k.Value <= now).Select(k => k.Key).ToList())
        {
            _keys.Remove(expired);
        }
    }

    public bool AnyActiveOtherThan(string keyId, DateTimeOffset now) =>
        _keys.Any(k => k.Key != keyId && (k.Value is null || k.Value > now));
}
