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

        if (!allowPrivateNetworks)
        {
            if (NetworkPolicy.IsLocalHostName(parsed.IdnHost))
            {
                return "Must not point to localhost";
            }

            if (parsed.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
                && IPAddress.TryParse(parsed.IdnHost.Trim('[', ']'), out var address)
                && !NetworkPolicy.IsPublic(address))
            {
                return "Must not point to a private, loopback, link-local or reserved address";
            }
        }

        uri = parsed;
        return null;
    }

    /// <summary>The form used for uniqueness: scheme and host lowercased, default port dropped, path kept as sent.</summary>
    public static string Normalize(Uri uri) => uri.AbsoluteUri;
}
