using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core;

/// <summary>Request-level settings (section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Overall deadline of one request, well under the Functions host's 230 s limit.</summary>
    [Range(1, 200)]
    public int RequestTimeoutSeconds { get; set; } = 15;
}
