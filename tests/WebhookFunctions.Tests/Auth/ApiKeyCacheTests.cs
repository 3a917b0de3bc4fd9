using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Tests.Auth;

/// <summary>
/// The cache's ordering rule on its own, step by step: an answer read from storage before a change on
/// this instance is never remembered after it. (KeyCacheTests shows the same through HTTP.)
/// </summary>
public sealed class ApiKeyCacheTests : IDisposable
{
    private const string Hash = "ab12";
    private readonly MemoryCache _memory = new(new MemoryCacheOptions { SizeLimit = 100 });
    private readonly ApiKeyCache _cache;
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

    public ApiKeyCacheTests() => _cache = new ApiKeyCache(_memory, Options.Create(new AuthOptions()));

    private static VerifiedKey Key() => new("merchant", "key", null, null);

    [Fact]
    public void A_lookup_begun_before_a_revoke_is_not_remembered_after_it()
    {
        var began = _cache.BeginLookup();
        _cache.Revoked(Hash);
        _cache.Remember(Hash, Key(), _now, began);

        Assert.False(_cache.TryGet(Hash, out _));
    }

    [Fact]
    public void A_lookup_begun_after_the_revoke_is_remembered_and_the_next_revoke_removes_it()
    {
        _cache.Revoked(Hash);
        var began = _cache.BeginLookup();
        _cache.Remember(Hash, Key(), _now, began);
        var remembered = _cache.TryGet(Hash, out var key);
        _cache.Revoked(Hash);

        Assert.True(remembered);
        Assert.Equal("key", key!.KeyId);
        Assert.False(_cache.TryGet(Hash, out _));
    }

    public void Dispose() => _memory.Dispose();
}
