using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Auth;

/// <summary>API-key settings (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>How long a successful key lookup may be reused; a key revoked elsewhere fails within this time.</summary>
    [Range(0, 300)]
    public int CacheSeconds { get; set; } = 30;
}
