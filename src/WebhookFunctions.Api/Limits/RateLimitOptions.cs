using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Api.Limits;

/// <summary>
/// Request-rate limits (section <c>Limits</c>). Each holds per instance: with N instances the
/// effective limit is N times the setting. A global limit belongs at the edge (API Management or
/// Front Door).
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Limits";

    private const int Most = 1_000_000;

    /// <summary>Sustained requests a second per API key.</summary>
    [Range(1, Most)]
    public int RequestsPerSecondPerKey { get; set; } = 100;

    /// <summary>Requests one API key may send at once before <see cref="RequestsPerSecondPerKey"/> paces it.</summary>
    [Range(1, Most)]
    public int BurstPerKey { get; set; } = 200;

    /// <summary>Creates of any resource, secret rotations and test deliveries a minute per API key, all together.</summary>
    [Range(1, Most)]
    public int CostlyPerMinutePerKey { get; set; } = 60;

    /// <summary>Requests a second per client address without a valid key: anonymous ones and failed authentication.</summary>
    [Range(1, Most)]
    public int UnauthenticatedPerSecondPerIp { get; set; } = 20;

    /// <summary>Events published a second per merchant, over all its keys.</summary>
    [Range(1, Most)]
    public int PublishPerSecondPerMerchant { get; set; } = 500;
}
