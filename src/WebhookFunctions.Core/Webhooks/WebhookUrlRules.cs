using System.Net;
using WebhookFunctions.Core.Network;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>The URL rules of the contract. Addresses are judged by <see cref="NetworkPolicy"/>.</summary>
public static class WebhookUrlRules
{
    public const int MaxLength = 2048;

    /// <summary>Returns the normalised URL, or null with the reason in <paramref name="error"/>.</summary>
    public static Uri? Check(string raw, bool allowInsecure, bool allowPrivateNetworks, out string? error)
    {
        error = Reason(raw, allowInsecure, allowPrivateNetworks, out var uri);
        return error is null ? uri : null;
    }

    private static string? Reason(string raw, bool allowInsecure, bool allowPrivateNetworks, out Uri? uri)
    {
        uri = null;
        if (raw.Length == 0)
        {
            return "Must not be empty";
        }

        if (raw.Length > MaxLength)
        {
            return $"Must be at most {MaxLength} characters";
        }

        if (raw.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return "Must not contain whitespace or control characters";
        }

        var schemes = allowInsecure ? "an absolute http or https URL" : "an absolute https URL";
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var parsed) || string.IsNullOrEmpty(parsed.Host))
        {
            return $"Must be {schemes}";
        }

        if (parsed.Scheme != Uri.UriSchemeHttps && !(allowInsecure && parsed.Scheme == Uri.UriSchemeHttp))
        {
            return $"Must be {schemes}";
        }

        if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            return "Must not contain user information";
        }

        if (raw.Contains('#', StringComparison.Ordinal))
        {
            return "Must not contain a fragment";
        }

        if (!NetworkPolicy.IsAllowedPort(parsed.Port))
        {
            return "Must use port 443, 80 or one from 1024 to 65535: port 0 and the other ports below 1024 belong to other services";
        }

        if (!allowPrivateNetworks)
        {
            // Judged as parsed and as folded to ASCII, whatever the parser calls the host: a DNS name to
            // the parser (127。0。0。1, ｌｏｃａｌｈｏｓｔ, 127.0.0.1.) can still mean this machine.
            foreach (var host in new[] { parsed.IdnHost, parsed.Host }.Select(NetworkPolicy.FoldHost).Distinct(StringComparer.Ordinal))
            {
                if (NetworkPolicy.IsLocalHostName(host))
                {
                    return "Must not point to localhost";
                }

                if (IPAddress.TryParse(host.Trim('[', ']'), out var address) && !NetworkPolicy.IsPublic(address))
                {
                    return "Must not point to a private, loopback, link-local or reserved address";
                }
            }
        }

        uri = parsed;
        return null;
    }

    /// <summary>The form used for uniqueness: scheme and host lowercased, default port dropped, path kept as sent.</summary>
    public static string Normalize(Uri uri) => uri.AbsoluteUri;
}
