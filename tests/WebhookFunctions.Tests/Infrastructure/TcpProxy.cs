using System.Net;
using System.Net.Sockets;
using WebhookFunctions.Development;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a dependency, so a test can make it refuse connections
/// (as if it were down) and let it come back, without touching the dependency itself. It also
/// counts the HTTP/1.1 requests that pass through to the dependency.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private int _requests;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _stop = new();

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        Port = AzuriteProcess.FreePort();
        Resume();
    }

    public int Port { get; }

    /// <summary>
    /// HTTP/1.1 request lines forwarded to the dependency so far: one per request, plus one per
    /// operation inside a batch (entity-group transaction) body. Counted before they are forwarded.
    /// </summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>When set, connections are accepted and then left unanswered: a dependency that hangs.</summary>
    public bool Hang { get; set; }

    /// <summary>Stops listening and cuts every open connection: new connections are refused.</summary>
    public void Refuse()
    {
        _stop.Cancel();
        _listener?.Stop();
        _listener = null;
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
        }
    }

    public void Resume()
    {
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _stop.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = PipeAsync(inbound, cancellationToken);
        }
    }

    private async Task PipeAsync(TcpClient inbound, CancellationToken cancellationToken)
    {
        var outbound = new TcpClient();
        lock (_open)
        {
            _open.Add(inbound);
            _open.Add(outbound);
        }

        try
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, cancellationToken);
            await Task.WhenAny(
                CopyToTargetAsync(inbound.GetStream(), outbound.GetStream(), cancellationToken),
                outbound.GetStream().CopyToAsync(inbound.GetStream(), cancellationToken));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private async Task CopyToTargetAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var marker = " HTTP/1.1\r\n"u8.ToArray();
        var buffer = new byte[64 * 1024];
        // The end of the previous read, so that a request line split across reads is still seen once.
        var tail = Array.Empty<byte>();
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var window = tail.Concat(buffer.Take(read)).ToArray();
            for (var at = window.AsSpan().IndexOf(marker); at >= 0;)
            {
                Interlocked.Increment(ref _requests);
                var next = window.AsSpan(at + marker.Length).IndexOf(marker);
                at = next < 0 ? -1 : at + marker.Length + next;
            }

            tail = window[Math.Max(0, window.Length - (marker.Length - 1))..];
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        Refuse();
        return ValueTask.CompletedTask;
    }
}
