using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

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
        if (request.ContentLength > MaxBytes)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge);
        }

        var buffer = await ReadBoundedAsync(request.Body, cancellationToken);
        request.Body = new MemoryStream(buffer.ToArray(), writable: false);
        return buffer;
    }

    /// <summary>Returns the root object, or null when the body is empty and <paramref name="required"/> is false.</summary>
    public static async Task<JsonDocument?> ReadObjectAsync(HttpRequest request, bool required, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge);
        }

        var buffer = await ReadBoundedAsync(request.Body, cancellationToken);
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

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer, DocumentOptions);
        }
        catch (JsonException)
        {
            throw ApiException.BadRequest(new ErrorDetail("body", "Must be well-formed JSON (UTF-8, no duplicate properties, at most 16 levels deep)"));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw ApiException.BadRequest(new ErrorDetail("body", "Must be a JSON object"));
        }

        return document;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxBytes + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (read == 0)
            {
                return buffer.AsMemory(0, total);
            }

            total += read;
        }

        throw new ApiException(StatusCodes.Status413PayloadTooLarge);
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
