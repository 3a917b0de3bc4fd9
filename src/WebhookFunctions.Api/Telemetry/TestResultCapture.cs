using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using WebhookFunctions.Core.Delivery;

namespace WebhookFunctions.Api.Telemetry;

/// <summary>
/// Passes a test-delivery response through unchanged while keeping its first bytes, where the
/// result's <c>status</c> is, so the outcome can be counted without the delivery code knowing about
/// metrics. Only POSTs to a path ending in <c>/test</c> are wrapped.
/// </summary>
internal sealed class TestResultCapture : Stream
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Unknown = "unknown";

    // WebhookTestResult serialises status first; 256 bytes hold it with room to spare.
    private readonly byte[] _head = new byte[256];
    private readonly IHttpResponseBodyFeature _original;
    private readonly StreamResponseBodyFeature _wrapper;
    private int _length;

    private TestResultCapture(IHttpResponseBodyFeature original)
    {
        _original = original;
        _wrapper = new StreamResponseBodyFeature(this, original);
    }

    public static TestResultCapture? AttachIfTestDelivery(HttpContext context)
    {
        // A cheap guess before routing has run; the operation is confirmed from the endpoint afterwards.
        if (!HttpMethods.IsPost(context.Request.Method)
            || context.Request.Path.Value?.EndsWith("/test", StringComparison.Ordinal) != true
            || context.Features.Get<IHttpResponseBodyFeature>() is not { } original)
        {
            return null;
        }

        var capture = new TestResultCapture(original);
        context.Features.Set<IHttpResponseBodyFeature>(capture._wrapper);
        return capture;
    }

    public async Task DetachAsync(HttpContext context)
    {
        // Flushes anything written through the wrapper's PipeWriter into the real body.
        await _wrapper.CompleteAsync();
        context.Features.Set(_original);
        _wrapper.Dispose();
    }

    public string Outcome()
    {
        var reader = new Utf8JsonReader(_head.AsSpan(0, _length), isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Unknown;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isStatus = reader.ValueTextEquals("status"u8);
                if (!reader.Read())
                {
                    return Unknown;
                }

                if (isStatus)
                {
                    return reader.TokenType != JsonTokenType.String ? Unknown
                        : reader.ValueTextEquals(WebhookTester.Succeeded) ? Succeeded
                        : reader.ValueTextEquals(WebhookTester.Failed) ? Failed
                        : Unknown;
                }

                if (!reader.TrySkip())
                {
                    return Unknown;
                }
            }
        }
        catch (JsonException)
        {
        }

        return Unknown;
    }

    private void Keep(ReadOnlySpan<byte> buffer)
    {
        var room = _head.Length - _length;
        if (room > 0)
        {
            var take = Math.Min(room, buffer.Length);
            buffer[..take].CopyTo(_head.AsSpan(_length));
            _length += take;
        }
    }

    private Stream Inner => _original.Stream;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Keep(buffer);
        Inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        return Inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => Inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
