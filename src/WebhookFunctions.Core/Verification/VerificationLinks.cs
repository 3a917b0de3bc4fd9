using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>
/// Builds the absolute verification link. Its base is <c>Webhooks:PublicBaseUrl</c>; else, in Azure Functions,
/// <c>https://{WEBSITE_HOSTNAME}</c>; else the address the standalone host listens on, which it reports once started.
/// </summary>
public sealed class VerificationLinks(IOptions<WebhookOptions> options, IConfiguration configuration)
{
    /// <summary>The link route, below the base. The HTTP layer serves <c>v1/verifications/{token}</c> under <c>api</c>.</summary>
    public const string PathPrefix = "api/v1/verifications/";

    private volatile string? _listening;

    /// <summary>Called by a host that knows where it listens; wildcard hosts become <c>localhost</c>.</summary>
    public void Listening(IEnumerable<string>? addresses)
    {
        var first = addresses?.FirstOrDefault();
        if (first is null)
        {
            return;
        }

        var builder = new UriBuilder(first.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0" or "[::]" or "::")
        {
            builder.Host = "localhost";
        }

        _listening = builder.Uri.GetLeftPart(UriPartial.Authority);
    }

    public string For(string token) => Base() + "/" + PathPrefix + token;

    private string Base()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl))
        {
            return options.Value.PublicBaseUrl.TrimEnd('/');
        }

        if (configuration["WEBSITE_HOSTNAME"] is { Length: > 0 } host)
        {
            return "https://" + host;
        }

        // Thrown before anything is written: the message comes back and is handled once the host has started listening.
        return _listening ?? throw new InvalidOperationException("Set Webhooks:PublicBaseUrl: this host does not know the address verification links should use.");
    }
}
