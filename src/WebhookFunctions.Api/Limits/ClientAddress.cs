using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace WebhookFunctions.Api.Limits;

/// <summary>
/// Who a request without a valid key is, for its rate limit: the connection's remote address. A
/// client-supplied X-Forwarded-For is never read here: behind Front Door or App Service, configure
/// the platform's forwarded header (ForwardedHeadersOptions with the known proxies) so that the
/// connection address is the client's.
/// </summary>
public static class ClientAddress
{
    private const int IPv6PrefixBytes = 8;

    /// <summary>The partition key: the IPv4 address, or the /64 of an IPv6 one (one host usually owns a whole /64).</summary>
    public static string Of(HttpContext httpContext)
    {
        var address = httpContext.Connection.RemoteIpAddress;
        if (address is null)
        {
            // In-process callers (no socket) share one allowance.
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, IPv6PrefixBytes, bytes.Length - IPv6PrefixBytes);
        return new IPAddress(bytes) + "/64";
    }
}
