using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a dependency, so a test can make it refuse connections
/// (as if it were down) and let it come back, count the requests that reach it, or make one of its
/// answers slow, without touching the dependency itself.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    private readonly List<RequestWatch> _watches = [];
    private readonly RequestWatch _all;
    private TcpListener? _listener;
    private CancellationTokenSource _stop = new();

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _all = Watch(" HTTP/1.1\r\n");
        Port = WebhookFunctions.Development.AzuriteProcess.FreePort();
        Resume();
    }

    public int Port { get; }

    /// <summary>HTTP/1.1 requests forwarded to the dependency since the proxy started.</summary>
    public int Requests => _all.Requests;

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
            var connection = new Connection();
            await Task.WhenAny(
                ForwardRequestsAsync(inbound.GetStream(), outbound.GetStream(), connection, cancellationToken),
                ForwardResponsesAsync(outbound.GetStream(), inbound.GetStream(), connection, cancellationToken));
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

    /// <summary>
    /// Watches requests for <paramref name="marker"/> (e.g. a key id or hash in a request's URL) from now
    /// on: counts them, and can hold back the response to the next one.
    /// </summary>
    public RequestWatch Watch(string marker)
    {
        var watch = new RequestWatch(Encoding.ASCII.GetBytes(marker));
        lock (_watches)
        {
            _watches.Add(watch);
        }

        return watch;
    }

    private async Task ForwardRequestsAsync(Stream from, Stream to, Connection connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var tail = Array.Empty<byte>();
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            // Scanned with the end of the previous read, so a marker split across reads is still seen.
            var window = new byte[tail.Length + read];
            tail.CopyTo(window, 0);
            Array.Copy(buffer, 0, window, tail.Length, read);
            RequestWatch[] watches;
            lock (_watches)
            {
                watches = [.. _watches];
            }

            var keep = 0;
            var matched = new List<RequestWatch>();
            foreach (var watch in watches)
            {
                var offset = 0;
                int at;
                while ((at = window.AsSpan(offset).IndexOf(watch.Marker)) >= 0)
                {
                    if (offset + at + watch.Marker.Length > tail.Length)
                    {
                        watch.Count(connection);
                        matched.Add(watch);
                    }

                    offset += at + watch.Marker.Length;
                }

                keep = Math.Max(keep, watch.Marker.Length - 1);
            }

            tail = window[Math.Max(0, window.Length - keep)..];
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            matched.ForEach(w => w.Forwarded());
        }
    }

    private static async Task ForwardResponsesAsync(Stream from, Stream to, Connection connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            // HttpClient sends no request on a connection before the previous response is in, so a
            // delay armed by a request applies to the start of that request's response.
            if (Interlocked.Exchange(ref connection.DelayTicks, 0) is var ticks and > 0)
            {
                await Task.Delay(TimeSpan.FromTicks(ticks), cancellationToken);
            }

            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    internal sealed class Connection
    {
        public long DelayTicks;
    }

    /// <summary>Requests seen containing one marker.</summary>
    public sealed class RequestWatch(byte[] marker)
    {
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _delayNextTicks;
        private int _requests;

        internal byte[] Marker { get; } = marker;

        public int Requests => Volatile.Read(ref _requests);

        /// <summary>Completes when a request with the marker has gone through to the dependency.</summary>
        public Task FirstSeen => _seen.Task;

        /// <summary>The response to the next request with the marker reaches the caller <paramref name="delay"/> late.</summary>
        public void DelayNextResponse(TimeSpan delay) => Interlocked.Exchange(ref _delayNextTicks, delay.Ticks);

        /// <summary>Before the request goes on, so the delay is armed before its response can come back.</summary>
        internal void Count(Connection connection)
        {
            Interlocked.Increment(ref _requests);
            if (Interlocked.Exchange(ref _delayNextTicks, 0) is var ticks and > 0)
            {
                Interlocked.Exchange(ref connection.DelayTicks, ticks);
            }
        }

        internal void Forwarded() => _seen.TrySetResult();
    }

    public ValueTask DisposeAsync()
    {
        Refuse();
        return ValueTask.CompletedTask;
    }
}
