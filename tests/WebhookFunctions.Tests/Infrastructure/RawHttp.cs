using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>A response read off a raw socket: the status, the headers and the body as text.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>For what HttpClient will not do: send a request's parts at a pace of the test's choosing.</summary>
public static class RawHttp
{
    /// <summary>Reads one HTTP/1.1 response (a Content-Length or a chunked body), or fails at <paramref name="timeout"/>.</summary>
    public static async Task<RawResponse> ReadResponseAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var received = new List<byte>();
        var buffer = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOf(received, "\r\n\r\n"u8.ToArray())) < 0)
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                throw new IOException($"Connection closed after {received.Count} bytes without a complete response head.");
            }

            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var head = Encoding.ASCII.GetString(received.GetRange(0, headerEnd).ToArray()).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = head.Skip(1)
            .Select(line => line.Split(':', 2))
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var bodyStart = headerEnd + 4;
        var chunked = headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        var length = headers.TryGetValue("Content-Length", out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : 0;
        while (chunked ? IndexOf(received.GetRange(bodyStart, received.Count - bodyStart), "0\r\n\r\n"u8.ToArray()) < 0 : received.Count - bodyStart < length)
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var raw = received.GetRange(bodyStart, received.Count - bodyStart).ToArray();
        var body = chunked ? Dechunk(raw) : raw.AsSpan(0, Math.Min(length, raw.Length)).ToArray();
        return new RawResponse(status, headers, Encoding.UTF8.GetString(body));
    }

    private static byte[] Dechunk(byte[] raw)
    {
        var body = new List<byte>();
        var at = 0;
        while (true)
        {
            var lineEnd = IndexOf(raw.Skip(at).ToList(), "\r\n"u8.ToArray());
            var size = int.Parse(Encoding.ASCII.GetString(raw, at, lineEnd).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            at += lineEnd + 2;
            if (size == 0)
            {
                return [.. body];
            }

            body.AddRange(raw.AsSpan(at, size).ToArray());
            at += size + 2;
        }
    }

    private static int IndexOf(List<byte> haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}
