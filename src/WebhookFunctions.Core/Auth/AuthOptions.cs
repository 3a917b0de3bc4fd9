using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Auth;

/// <summary>API-key settings (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>How long a successful key lookup may be reused; a key revoked elsewhere fails within this time.</summary>
    [Range(0, 300)]
    public int CacheSeconds { get; set; } = 30;

    /// <summary>
    /// How long a key that storage refused (unknown, revoked or expired) is refused without asking again,
    /// so a flood of made-up keys costs no storage read per request.
    /// </summary>
    [Range(0, 60)]
    public int RefusedKeyCacheSeconds { get; set; } = 5;
}
