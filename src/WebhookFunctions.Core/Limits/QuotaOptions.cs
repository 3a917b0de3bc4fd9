using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Limits;

/// <summary>
/// Quotas on stored things (section <c>Limits</c>, shared with the request-rate settings). Each is held
/// exactly across instances by a counter row written in the same transaction as the row it guards.
/// </summary>
public sealed class QuotaOptions
{
    public const string Section = "Limits";

    [Range(1, 10_000)]
    public int MaxApplicationsPerMerchant { get; set; } = 100;

    /// <summary>
    /// Keys neither revoked nor expired. The counter row lists them with their expiries, so the upper
    /// bound keeps that row far below the 64 KiB a table property may hold.
    /// </summary>
    [Range(1, 500)]
    public int MaxActiveKeysPerMerchant { get; set; } = 20;
}
