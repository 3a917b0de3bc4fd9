using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>Webhook settings (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Accept plain http URLs. Development only: start-up refuses it elsewhere.</summary>
    public bool AllowInsecureUrls { get; set; }

    /// <summary>Accept localhost and private addresses (a developer's receiver). Development only.</summary>
    public bool AllowPrivateNetworks { get; set; }

    [Range(1, 1000)]
    public int MaxPerApplication { get; set; } = 20;

    /// <summary>Deliver only to webhooks whose URL's owner proved consent (SPEC §8). Off: new webhooks are verified at once.</summary>
    public bool RequireVerification { get; set; } = true;

    /// <summary>How long a webhook may stay pending before its waiting deliveries are skipped (<c>webhook_unverified</c>).</summary>
    public string VerificationWindow { get; set; } = "72h";

    /// <summary>
    /// How often a delivery parked on a pending webhook looks again. Verification releases parked deliveries at
    /// once; the recheck only ends the window, and catches a release lost to a crash.
    /// </summary>
    public string VerificationRecheck { get; set; } = "5m";

    /// <summary>
    /// Where verification links point (scheme and host the owner can reach). Unset: the Functions app uses
    /// <c>https://{WEBSITE_HOSTNAME}</c>, the standalone host its own listening address.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public TimeSpan VerificationWindowDuration => Delivery.Durations.Parse(VerificationWindow);

    public TimeSpan VerificationRecheckDuration => Delivery.Durations.Parse(VerificationRecheck);

    /// <summary>The event catalog. Empty means the defaults, <c>session.completed</c> and <c>session.expired</c>.</summary>
    public List<string> EventTypes { get; set; } = [];
}
