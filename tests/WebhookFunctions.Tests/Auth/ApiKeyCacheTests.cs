using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Tests.Auth;

/// <summary>
/// The cache's rules on their own, step by step: an answer read from storage before a change on this
/// instance is never remembered after it, and refused keys are remembered briefly and in bounded
/// memory. (KeyCacheTests shows the same through HTTP.)
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

        Assert.False(_cache.TryGet(Hash, _now, out _));
    }

    [Fact]
    public void A_lookup_begun_after_the_revoke_is_remembered_and_the_next_revoke_removes_it()
    {
        _cache.Revoked(Hash);
        var began = _cache.BeginLookup();
        _cache.Remember(Hash, Key(), _now, began);
        var remembered = _cache.TryGet(Hash, _now, out var key);
        _cache.Revoked(Hash);

        Assert.True(remembered);
        Assert.Equal("key", key!.KeyId);
        Assert.False(_cache.TryGet(Hash, _now, out _));
    }

    [Fact]
    public void A_refused_key_is_remembered_for_a_few_seconds_only()
    {
        _cache.RememberRefused(Hash, _now, _cache.BeginLookup());

        Assert.True(_cache.TryGet(Hash, _now.AddSeconds(4), out var key));
        Assert.Null(key);
        Assert.False(_cache.TryGet(Hash, _now.AddSeconds(6), out _));
    }

    [Fact]
    public void A_key_created_after_its_hash_was_remembered_as_unknown_works_at_once()
    {
        _cache.RememberRefused(Hash, _now, _cache.BeginLookup());
        _cache.Created(Hash);

        Assert.False(_cache.TryGet(Hash, _now, out _));
    }

    [Fact]
    public void An_unknown_answer_read_before_the_key_was_created_is_not_remembered_after_it()
    {
        var began = _cache.BeginLookup();
        _cache.Created(Hash);
        _cache.RememberRefused(Hash, _now, began);

        Assert.False(_cache.TryGet(Hash, _now, out _));
    }

    [Fact]
    public void Refused_keys_take_bounded_memory()
    {
        for (var i = 0; i < ApiKeyCache.RefusedCapacity + 500; i++)
        {
            _cache.RememberRefused($"hash{i}", _now, _cache.BeginLookup());
        }

        var remembered = Enumerable.Range(0, ApiKeyCache.RefusedCapacity + 500).Count(i => _cache.TryGet($"hash{i}", _now, out _));
        Assert.InRange(remembered, 1, ApiKeyCache.RefusedCapacity);
    }

    public void Dispose()
    {
        _cache.Dispose();
        _memory.Dispose();
    }
}
