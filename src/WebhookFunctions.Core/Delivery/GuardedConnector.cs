using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using WebhookFunctions.Core.Network;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// The connect step of outbound calls. It resolves the host itself and connects only when every A
/// and AAAA record passes <see cref="NetworkPolicy"/>, so a name that resolves (or re-resolves, as in
/// DNS rebinding) to an internal address is refused before a byte is sent.
/// </summary>
public sealed class GuardedConnector(bool allowPrivateNetworks)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new DestinationRefusedException($"{endpoint.Host} has no addresses.");
        }

        if (addresses.Any(address => !NetworkPolicy.IsAllowed(address, allowPrivateNetworks)))
        {
            throw new DestinationRefusedException($"{endpoint.Host} resolves to an address the network policy does not allow.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

public sealed class DestinationRefusedException : Exception
{
    public DestinationRefusedException()
    {
    }

    public DestinationRefusedException(string message) : base(message)
    {
    }

    public DestinationRefusedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
