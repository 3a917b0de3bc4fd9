using System.Collections.Frozen;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Api.Limits;

/// <summary>Why a request was refused and when to try again: the body and <c>Retry-After</c> of a 429.</summary>
public sealed record RateLimitRefusal(string Message, TimeSpan RetryAfter);

/// <summary>
/// The request-rate limits of this instance, one token bucket per key, per client address or per
/// merchant. Partitions live in <see cref="PartitionedRateLimiter"/>, whose heartbeat (every 100 ms)
/// refills them by elapsed time and drops any that has been full, that is idle, for 10 seconds, so
/// memory holds only the callers of the last few seconds however many there are.
/// </summary>
public sealed class ApiRateLimits : IDisposable
{
    /// <summary>The publish operation another change adds; limited per merchant from the moment it exists.</summary>
    public const string PublishEvent = nameof(PublishEvent);

    /// <summary>Creates of any resource, secret rotations, test deliveries and recoveries: each writes the secret store, the tables or the network.</summary>
    public static readonly FrozenSet<string> CostlyOperations = new[]
    {
        ApiOperations.CreateWebhook, ApiOperations.RotateWebhookSecret, ApiOperations.TestWebhook,
        ApiOperations.CreateApplication, ApiOperations.CreateApiKey, ApiOperations.RecoverDeliveries,
    }.ToFrozenSet(StringComparer.Ordinal);

    public static readonly FrozenSet<string> PublishOperations = new[] { PublishEvent }.ToFrozenSet(StringComparer.Ordinal);

    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string> _perKey;
    private readonly PartitionedRateLimiter<string> _costlyPerKey;
    private readonly PartitionedRateLimiter<string> _unauthenticatedPerAddress;
    private readonly PartitionedRateLimiter<string> _publishPerMerchant;

    public ApiRateLimits(IOptions<RateLimitOptions> options)
    {
        _options = options.Value;
        _perKey = Buckets(_options.RequestsPerSecondPerKey, TimeSpan.FromSeconds(1), _options.BurstPerKey);
        _costlyPerKey = Buckets(_options.CostlyPerMinutePerKey, TimeSpan.FromMinutes(1), _options.CostlyPerMinutePerKey);
        _unauthenticatedPerAddress = Buckets(_options.UnauthenticatedPerSecondPerIp, TimeSpan.FromSeconds(1), _options.UnauthenticatedPerSecondPerIp);
        _publishPerMerchant = Buckets(_options.PublishPerSecondPerMerchant, TimeSpan.FromSeconds(1), _options.PublishPerSecondPerMerchant);
    }

    /// <summary>
    /// Before a key is looked at: refused when the address has already spent its allowance for
    /// requests without a valid key. Spends nothing, so valid keys never use up that allowance.
    /// </summary>
    public RateLimitRefusal? CheckAddress(string address) =>
        // Statistics count whole tokens: a bucket refilling between two tokens holds a fraction, which
        // must not let lookups through at more than the limit.
        _unauthenticatedPerAddress.GetStatistics(address) is { CurrentAvailablePermits: < 1 }
            ? new RateLimitRefusal(WithRetryHint(Unauthenticated()), TimeSpan.FromSeconds(1.0 / _options.UnauthenticatedPerSecondPerIp))
            : null;

    /// <summary>Spends one of the address's permits for a request that has no valid key (anonymous, or failed authentication).</summary>
    public RateLimitRefusal? SpendAddress(string address) => Refusal(_unauthenticatedPerAddress, address, permits: 1, Unauthenticated);

    /// <summary>After authentication: the key's rate, then the costly and publish allowances the operation is subject to.</summary>
    public RateLimitRefusal? Admit(Caller caller, string? operationName) =>
        Refusal(_perKey, caller.KeyId, permits: 1, PerKey)
        ?? (operationName is not null && CostlyOperations.Contains(operationName) ? Refusal(_costlyPerKey, caller.KeyId, permits: 1, Costly) : null)
        ?? (operationName is not null && PublishOperations.Contains(operationName) ? Refusal(_publishPerMerchant, caller.MerchantId, permits: 1, Publish) : null);

    private string PerKey() =>
        $"Too many requests for this API key: the limit is {_options.RequestsPerSecondPerKey} a second (bursts of {_options.BurstPerKey}).";

    private string Costly() =>
        $"Too many creates, secret rotations and test deliveries for this API key: the limit is {_options.CostlyPerMinutePerKey} a minute.";

    private string Unauthenticated() =>
        $"Too many requests without a valid API key from this address: the limit is {_options.UnauthenticatedPerSecondPerIp} a second.";

    private string Publish() =>
        $"Too many events published for this merchant: the limit is {_options.PublishPerSecondPerMerchant} a second.";

    private static RateLimitRefusal? Refusal(PartitionedRateLimiter<string> limiter, string partition, int permits, Func<string> message)
    {
        using var lease = limiter.AttemptAcquire(partition, permits);
        if (lease.IsAcquired)
        {
            return null;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return new RateLimitRefusal(WithRetryHint(message()), retryAfter);
    }

    private static string WithRetryHint(string message) => message + " Retry after the number of seconds in Retry-After.";

    /// <summary>
    /// A bucket of <paramref name="burst"/> tokens per partition, refilled at <paramref name="permits"/>
    /// per <paramref name="per"/> one token at a time, so Retry-After is the wait for the next token
    /// rather than for a whole period. Nothing queues: over the limit is an immediate 429.
    /// </summary>
    private static PartitionedRateLimiter<string> Buckets(int permits, TimeSpan per, int burst) =>
        PartitionedRateLimiter.Create<string, string>(
            partition => RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromTicks(Math.Max(1, per.Ticks / permits)),
                QueueLimit = 0,
                // The partitioned limiter's heartbeat refills by elapsed time: no timer per partition.
                AutoReplenishment = false,
            }),
            StringComparer.Ordinal);

    public void Dispose()
    {
        _perKey.Dispose();
        _costlyPerKey.Dispose();
        _unauthenticatedPerAddress.Dispose();
        _publishPerMerchant.Dispose();
    }
}
