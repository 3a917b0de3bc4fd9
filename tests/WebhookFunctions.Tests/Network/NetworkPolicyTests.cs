using System.Net;
using System.Net.Http;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Network;

namespace WebhookFunctions.Tests.Network;

public sealed class NetworkPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("169.254.169.254")]
    [InlineData("168.63.129.16")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.251")]
    [InlineData("239.255.255.250")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.0.8")]
    [InlineData("192.0.2.1")]
    [InlineData("198.18.0.1")]
    [InlineData("198.51.100.1")]
    [InlineData("203.0.113.1")]
    [InlineData("192.88.99.1")]
    [InlineData("192.88.99.255")]
    [InlineData("::ffff:192.88.99.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("64:ff9b:1::a9fe:a9fe")]
    [InlineData("64:ff9b:1:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("100::1")]
    [InlineData("100::ffff:ffff:ffff:ffff")]
    [InlineData("3fff::1")]
    [InlineData("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2001:db8::1")]
    [InlineData("2001::1")]
    [InlineData("fc00::1")]
    [InlineData("fdff:ffff::1")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("ff02::1")]
    public void Blocks_non_public_addresses(string address)
    {
        Assert.False(NetworkPolicy.IsPublic(IPAddress.Parse(address)));
        Assert.False(NetworkPolicy.IsAllowed(IPAddress.Parse(address), allowPrivateNetworks: false));
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("192.88.98.255")]
    [InlineData("192.88.100.1")]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    public void Allows_public_addresses(string address)
    {
        Assert.True(NetworkPolicy.IsPublic(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("https://2130706433/", "127.0.0.1")]
    [InlineData("https://0x7f000001/", "127.0.0.1")]
    [InlineData("https://0177.0.0.1/", "127.0.0.1")]
    [InlineData("https://0x7f.1/", "127.0.0.1")]
    [InlineData("https://127.1/", "127.0.0.1")]
    [InlineData("https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254")]
    [InlineData("https://[::ffff:7f00:1]/", "127.0.0.1")]
    public void Odd_ipv4_spellings_resolve_to_the_address_they_mean_and_are_blocked(string url, string meant)
    {
        var uri = new Uri(url);
        var address = IPAddress.Parse(uri.IdnHost.Trim('[', ']'));

        Assert.Equal(IPAddress.Parse(meant), address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        Assert.False(NetworkPolicy.IsPublic(address));
    }

    [Fact]
    public void Private_networks_may_be_allowed_for_development_but_never_multicast_or_unspecified()
    {
        Assert.True(NetworkPolicy.IsAllowed(IPAddress.Loopback, allowPrivateNetworks: true));
        Assert.True(NetworkPolicy.IsAllowed(IPAddress.Parse("10.0.0.5"), allowPrivateNetworks: true));
        Assert.False(NetworkPolicy.IsAllowed(IPAddress.Parse("224.0.0.1"), allowPrivateNetworks: true));
        Assert.False(NetworkPolicy.IsAllowed(IPAddress.Any, allowPrivateNetworks: true));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("192.88.99.1")]
    [InlineData("[::ffff:192.88.99.1]")]
    [InlineData("[64:ff9b:1::a9fe:a9fe]")]
    [InlineData("[100::1]")]
    [InlineData("[3fff::1]")]
    public async Task A_blocked_address_is_refused_at_connect_time(string host)
    {
        // Without the check the connector would try the address; the timeout only bounds that broken case.
        using var handler = new SocketsHttpHandler { ConnectCallback = new GuardedConnector(allowPrivateNetworks: false).ConnectAsync };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync($"http://{host}:9/"));

        Assert.IsType<DestinationRefusedException>(error.InnerException);
    }

    [Fact]
    public async Task A_dns_name_that_resolves_to_loopback_is_refused_at_connect_time()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptTcpClientAsync();
        using var handler = new SocketsHttpHandler { ConnectCallback = new GuardedConnector(allowPrivateNetworks: false).ConnectAsync };
        using var client = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://localhost:{port}/"));

        Assert.IsType<DestinationRefusedException>(error.InnerException);
        await Task.Delay(200);
        Assert.False(accept.IsCompleted, "the listener must not have seen a connection");
    }
}
