using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WebhookFunctions.Core.Network;

/// <summary>
/// The one place that decides whether the API may talk to an address: URL validation and outbound
/// delivery both ask it. Everything that is not publicly routable unicast is blocked.
/// </summary>
public static class NetworkPolicy
{
    private static readonly IPNetwork[] BlockedV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),          // unspecified / "this network"
        IPNetwork.Parse("10.0.0.0/8"),         // private
        IPNetwork.Parse("100.64.0.0/10"),      // CGNAT
        IPNetwork.Parse("127.0.0.0/8"),        // loopback
        IPNetwork.Parse("169.254.0.0/16"),     // link-local, including 169.254.169.254 (instance metadata)
        IPNetwork.Parse("172.16.0.0/12"),      // private
        IPNetwork.Parse("192.0.0.0/24"),       // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),       // documentation
        IPNetwork.Parse("192.88.99.0/24"),     // 6to4 relay anycast (deprecated)
        IPNetwork.Parse("192.168.0.0/16"),     // private
        IPNetwork.Parse("198.18.0.0/15"),      // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),    // documentation
        IPNetwork.Parse("203.0.113.0/24"),     // documentation
        IPNetwork.Parse("224.0.0.0/4"),        // multicast
        IPNetwork.Parse("240.0.0.0/4"),        // reserved, including broadcast
        IPNetwork.Parse("168.63.129.16/32"),   // Azure platform (wire server)
    ];

    private static readonly IPNetwork[] BlockedV6 =
    [
        IPNetwork.Parse("::/8"),               // unspecified, loopback, IPv4-compatible and other reserved
        IPNetwork.Parse("64:ff9b::/96"),       // NAT64: would reach an embedded IPv4 address
        IPNetwork.Parse("64:ff9b:1::/48"),     // local-use NAT64
        IPNetwork.Parse("100::/64"),           // discard
        IPNetwork.Parse("2001::/23"),          // IETF protocol assignments (Teredo, ORCHIDv2, ...)
        IPNetwork.Parse("2001:db8::/32"),      // documentation
        IPNetwork.Parse("2002::/16"),          // 6to4: would reach an embedded IPv4 address
        IPNetwork.Parse("3fff::/20"),          // documentation
        IPNetwork.Parse("fc00::/7"),           // unique local
        IPNetwork.Parse("fe80::/10"),          // link-local
        IPNetwork.Parse("fec0::/10"),          // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),           // multicast
    ];

    /// <summary>True when <paramref name="address"/> is publicly routable unicast.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !BlockedV4.Any(n => n.Contains(address)),
            AddressFamily.InterNetworkV6 => !BlockedV6.Any(n => n.Contains(address)),
            _ => false,
        };
    }

    /// <summary>
    /// True when the address may be used: always for public addresses, and for any unicast or
    /// loopback address when private networks are allowed (a developer's local receiver).
    /// </summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivateNetworks) =>
        IsPublic(address) || (allowPrivateNetworks && !IsMulticastOrUnspecified(address));

    /// <summary>
    /// The port rule for webhook URLs: never 0, and below 1024 only 80 and 443. The well-known ports
    /// are where SSH, SMTP, DNS and the like listen, never a webhook receiver; 1024 to 65535 (8080,
    /// 8443, 3000...) are open to receivers.
    /// </summary>
    public static bool IsAllowedPort(int port) => port is 80 or 443 or (>= 1024 and <= 65535);

    /// <summary>
    /// A URL host as a resolver or an IDNA-aware client would read it: fullwidth forms folded to ASCII
    /// (<c>ｌｏｃａｌｈｏｓｔ</c>, <c>１２７</c>), the ideographic and fullwidth full stops read as dots
    /// (<c>127。0。0。1</c>), lowercased, trailing dots dropped (<c>127.0.0.1.</c>). The build runs with
    /// invariant globalization, where <see cref="Uri.IdnHost"/> applies none of these mappings, so
    /// whatever <see cref="Uri.HostNameType"/> says, the host is judged in this form as well.
    /// </summary>
    public static string FoldHost(string host)
    {
        var folded = new StringBuilder(host.Length);
        foreach (var c in host)
        {
            folded.Append(c switch
            {
                '\u3002' or '\uFF0E' or '\uFF61' => '.',
                >= '\uFF01' and <= '\uFF5E' => (char)(c - 0xFEE0),
                _ => c,
            });
        }

        return folded.ToString().ToLowerInvariant().TrimEnd('.');
    }

    /// <summary>Host names that always mean this machine.</summary>
    public static bool IsLocalHostName(string host)
    {
        var name = host.TrimEnd('.');
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsMulticastOrUnspecified(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6Multicast
            || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224);
    }
}
