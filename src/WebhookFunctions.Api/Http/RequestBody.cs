using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Serialization;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// Reads a JSON object body with the bounds the contract sets: at most 64 KiB, JSON media type,
/// an object at the root, no duplicate property names and a modest nesting depth.
/// </summary>
public static class RequestBody
{
    public const int MaxBytes = 64 * 1024;
    private const int MaxDepth = 16;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = MaxDepth,
        AllowDuplicateProperties = false,
    };

    /// <summary>
    /// Reads the whole body within the size bound and puts it back as a seekable stream, for callers
    /// that must see the bytes before the handler parses them.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> BufferAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = await ReadBoundedAsync(request, MaxBytes, cancellationToken);
        request.Body = new MemoryStream(buffer.ToArray(), writable: false);
        return buffer;
    }

    /// <summary>
    /// Returns the root object, or null when <paramref name="required"/> is false and the body is empty
    /// or the JSON literal <c>null</c>: generated clients (NSwag, for one) serialise an absent optional
    /// body as <c>null</c>, and refusing that would make the optional body mandatory for them.
    /// </summary>
    public static Task<JsonDocument?> ReadObjectAsync(HttpRequest request, bool required, CancellationToken cancellationToken) =>
        ReadObjectAsync(request, required, MaxBytes, cancellationToken);

    /// <param name="maxBytes">The size bound of this body, for the few operations whose contract sets another (a publish).</param>
    public static async Task<JsonDocument?> ReadObjectAsync(HttpRequest request, bool required, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = await ReadBoundedAsync(request, maxBytes, cancellationToken);
        if (buffer.Length == 0)
        {
            return required
                ? throw ApiException.BadRequest(new ErrorDetail("body", "A JSON object body is required"))
                : null;
        }

        if (!IsJsonMediaType(request.ContentType))
        {
            throw new ApiException(StatusCodes.Status415UnsupportedMediaType);
        }

        if (InvalidUtf8At(buffer.Span) is { } offset)
        {
            // Checked here, once: the parser accepts such bytes inside strings, and reading them later
            // fails the same way as an unpaired surrogate escape, which would be reported as one.
            throw ApiException.BadRequest(new ErrorDetail("body", $"Must be UTF-8: the bytes at offset {offset} are not valid UTF-8"));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer, DocumentOptions);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-name check unescapes property names, and an
            // unpaired surrogate escape cannot be unescaped.
            throw ApiException.BadRequest(new ErrorDetail("body", "Must be well-formed JSON (UTF-8, no duplicate properties, at most 16 levels deep)"));
        }

        if (!required && document.RootElement.ValueKind == JsonValueKind.Null)
        {
            document.Dispose();
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw ApiException.BadRequest(new ErrorDetail("body", "Must be a JSON object"));
        }

        if (FirstMalformedString(document.RootElement) is { } field)
        {
            document.Dispose();
            throw ApiException.BadRequest(new ErrorDetail(field, "Must not contain unpaired UTF-16 surrogate escapes such as \\ud800"));
        }

        return document;
    }

    /// <summary>
    /// JSON lets a string escape half a surrogate pair, which no .NET string can hold: reject such
    /// bodies here, once, rather than have any handler's GetString throw. (A top-level property
    /// name of that kind has already failed parsing, in the duplicate-name check.)
    /// </summary>
    /// <returns>The top-level property holding such a string, or null when there is none.</returns>
    private static string? FirstMalformedString(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            try
            {
                if (!Walk(property.Value))
                {
                    return property.Name;
                }
            }
            catch (InvalidOperationException)
            {
                return property.Name;
            }
        }

        return null;

        static bool Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        if (!Walk(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!Walk(item))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
    }

    /// <summary>The whole body, refusing with 413 as soon as it is known to exceed <paramref name="maxBytes"/>.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        var body = request.Body;
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            int read;
            try
            {
                read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken);
            }
            catch (BadHttpRequestException slow) when (slow.StatusCode == StatusCodes.Status408RequestTimeout)
            {
                // Kestrel's own minimum data rate gave up on the client first: the same fault.
                throw new ApiException(StatusCodes.Status408RequestTimeout);
            }
            catch (IOException)
            {
                // The client's framing broke mid-body (a malformed chunk, a connection cut short). Left
                // alone, an IOException would read as a failing dependency and answer 502.
                throw ApiException.BadRequest(new ErrorDetail("body", "Could not be read: the request body is malformed or incomplete"));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !request.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // The deadline passed while the client was still sending: the client is slow, not a
                // dependency, so this is a 408 and not the 504 the deadline means elsewhere.
                throw new ApiException(StatusCodes.Status408RequestTimeout);
            }

            if (read == 0)
            {
                return buffer.AsMemory(0, total);
            }

            total += read;
        }

        throw TooLarge(maxBytes);
    }

    private static ApiException TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {maxBytes} bytes.");

    /// <summary>The offset of the first byte that is not valid UTF-8, or null when all are.</summary>
    private static int? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return null;
        }

        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return null;
    }

    private static bool IsJsonMediaType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return false;
        }

        var mediaType = parsed.MediaType.Value ?? string.Empty;
        var isJson = mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = parsed.Charset.Value;
        return isJson && (charset is null || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }
}
