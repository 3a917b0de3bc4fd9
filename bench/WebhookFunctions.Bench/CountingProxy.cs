using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WebhookFunctions.Bench;

/// <summary>Storage requests seen by a <see cref="CountingProxy"/> pair (one for tables, one for queues).</summary>
public sealed record StorageCounts(
    long TableReads, long TableWrites, long TableTransactions, long TransactionOperations,
    long QueueSends, long QueueReceives, long QueueDeletes, long QueueOther, long Unparsed)
{
    public static readonly StorageCounts Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Single-entity writes and entity-group transactions: each is one request to the account.</summary>
    public long TableWriteRequests => TableWrites + TableTransactions;

    public long QueueCalls => QueueSends + QueueReceives + QueueDeletes + QueueOther;

    /// <summary>Requests to the storage account, the unit its scalability target is stated in.</summary>
    public long Requests => TableReads + TableWriteRequests + QueueCalls;

    public static StorageCounts operator -(StorageCounts a, StorageCounts b) => new(
        a.TableReads - b.TableReads, a.TableWrites - b.TableWrites, a.TableTransactions - b.TableTransactions,
        a.TransactionOperations - b.TransactionOperations, a.QueueSends - b.QueueSends, a.QueueReceives - b.QueueReceives,
        a.QueueDeletes - b.QueueDeletes, a.QueueOther - b.QueueOther, a.Unparsed - b.Unparsed);

    public static StorageCounts operator +(StorageCounts a, StorageCounts b) => new(
        a.TableReads + b.TableReads, a.TableWrites + b.TableWrites, a.TableTransactions + b.TableTransactions,
        a.TransactionOperations + b.TransactionOperations, a.QueueSends + b.QueueSends, a.QueueReceives + b.QueueReceives,
        a.QueueDeletes + b.QueueDeletes, a.QueueOther + b.QueueOther, a.Unparsed + b.Unparsed);
}

/// <summary>
/// A loopback forwarder in front of one Azurite service that counts the HTTP requests going through
/// it by method, so storage operations are counted, not estimated. HttpClient sends no second request
/// on a connection before the previous response has started, so the first bytes from the client after
/// a response (or on a new connection) begin a request: its request line says what it is. Entity-group
/// transactions are counted once, and their inner operations (one request line each inside the
/// multipart body) separately.
/// </summary>
public sealed class CountingProxy : IAsyncDisposable
{
    private static readonly byte[] RequestLineEnd = " HTTP/1.1\r\n"u8.ToArray();
    private readonly bool _queue;
    private readonly int _targetPort;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long[]> _waits = new();
    private long _tableReads, _tableWrites, _tableTransactions, _requestLines, _queueSends, _queueReceives, _queueDeletes, _queueOther, _unparsed;

    public CountingProxy(string service, int targetPort)
    {
        _queue = service == "queue";
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>When set, every request line is added to it: for finding out what a count is made of (BENCH_TRACE=1).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string>? Trace { get; set; }

    public StorageCounts Snapshot()
    {
        var topLevel = Interlocked.Read(ref _tableReads) + Interlocked.Read(ref _tableWrites) + Interlocked.Read(ref _tableTransactions)
            + Interlocked.Read(ref _queueSends) + Interlocked.Read(ref _queueReceives) + Interlocked.Read(ref _queueDeletes)
            + Interlocked.Read(ref _queueOther) + Interlocked.Read(ref _unparsed);
        return new StorageCounts(
            Interlocked.Read(ref _tableReads), Interlocked.Read(ref _tableWrites), Interlocked.Read(ref _tableTransactions),
            Math.Max(0, Interlocked.Read(ref _requestLines) - topLevel),
            Interlocked.Read(ref _queueSends), Interlocked.Read(ref _queueReceives), Interlocked.Read(ref _queueDeletes),
            Interlocked.Read(ref _queueOther), Interlocked.Read(ref _unparsed));
    }

    /// <summary>
    /// Per kind of request (e.g. "GET", "POST $batch", "DELETE"): how many, and the total time from the
    /// request's first byte to the response's first byte, in Stopwatch ticks; Azurite's side of the time.
    /// </summary>
    public IReadOnlyDictionary<string, (long Count, long Ticks)> Waits() =>
        _waits.ToDictionary(p => p.Key, p => (Interlocked.Read(ref p.Value[0]), Interlocked.Read(ref p.Value[1])));

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = PipeAsync(inbound);
        }
    }

    private async Task PipeAsync(TcpClient inbound)
    {
        using var outbound = new TcpClient { NoDelay = true };
        inbound.NoDelay = true;
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            var connection = new Connection();
            await Task.WhenAny(RequestsAsync(inbound.GetStream(), outbound.GetStream(), connection), ResponsesAsync(outbound.GetStream(), inbound.GetStream(), connection));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            inbound.Dispose();
        }
    }

    private async Task RequestsAsync(Stream from, Stream to, Connection connection)
    {
        var buffer = new byte[64 * 1024];
        var head = new List<byte>();
        var tail = Array.Empty<byte>();
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (Volatile.Read(ref connection.AwaitingRequest))
            {
                // The request line, possibly split over reads.
                head.AddRange(buffer.AsSpan(0, Math.Min(read, 4096)));
                var end = head.IndexOf((byte)'\n');
                if (end >= 0 || head.Count >= 4096)
                {
                    connection.Kind = Count(Encoding.ASCII.GetString(head.ToArray(), 0, end >= 0 ? end : head.Count));
                    connection.Started = System.Diagnostics.Stopwatch.GetTimestamp();
                    head.Clear();
                    Volatile.Write(ref connection.AwaitingRequest, false);
                }
            }

            // Every request line, including those inside a transaction's body; a line split across reads is still seen.
            var window = new byte[tail.Length + read];
            tail.CopyTo(window, 0);
            Array.Copy(buffer, 0, window, tail.Length, read);
            int lines = 0, offset = 0, at;
            while ((at = window.AsSpan(offset).IndexOf(RequestLineEnd)) >= 0)
            {
                lines++;
                offset += at + RequestLineEnd.Length;
            }

            Interlocked.Add(ref _requestLines, lines);
            tail = window[Math.Max(offset, window.Length - (RequestLineEnd.Length - 1))..];
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private async Task ResponsesAsync(Stream from, Stream to, Connection connection)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (connection.Kind is { } kind && !Volatile.Read(ref connection.AwaitingRequest))
            {
                var wait = _waits.GetOrAdd(kind, _ => new long[2]);
                Interlocked.Increment(ref wait[0]);
                Interlocked.Add(ref wait[1], System.Diagnostics.Stopwatch.GetTimestamp() - connection.Started);
                connection.Kind = null;
            }

            Volatile.Write(ref connection.AwaitingRequest, true);
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private string? Count(string requestLine)
    {
        var parts = requestLine.Split(' ');
        if (parts.Length < 3 || !parts[2].StartsWith("HTTP/", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _unparsed);
            return null;
        }

        var method = parts[0];
        var target = parts[1];
        Trace?.Enqueue(method + " " + target);
        ref var counter = ref _unparsed;
        if (_queue)
        {
            if (method == "POST")
            {
                counter = ref _queueSends;
            }
            else if (method == "GET" && target.Contains("/messages", StringComparison.Ordinal))
            {
                counter = ref _queueReceives;
            }
            else if (method == "DELETE" && target.Contains("/messages/", StringComparison.Ordinal))
            {
                counter = ref _queueDeletes;
            }
            else
            {
                counter = ref _queueOther;
            }
        }
        else if (method == "GET")
        {
            counter = ref _tableReads;
        }
        else if (method == "POST" && target.Contains("$batch", StringComparison.Ordinal))
        {
            counter = ref _tableTransactions;
        }
        else if (method is "POST" or "PUT" or "MERGE" or "PATCH" or "DELETE")
        {
            counter = ref _tableWrites;
        }

        Interlocked.Increment(ref counter);
        var path = target.Split('?')[0];
        var resource = path.Split('/', StringSplitOptions.RemoveEmptyEntries) is { Length: > 1 } segments ? segments[1].Split('(')[0] : path;
        return $"{(_queue ? "queue" : "table")} {method} {resource}{(target.Contains("$filter", StringComparison.Ordinal) ? " (query)" : string.Empty)}";
    }

    private sealed class Connection
    {
        public bool AwaitingRequest = true;
        public string? Kind;
        public long Started;
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
