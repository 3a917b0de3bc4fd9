using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Api.OpenApi;

/// <summary>
/// Serves the checked-in OpenAPI document, embedded in this library so that both hosts serve the
/// same bytes. Tests hold it to the route table and to the response types.
/// </summary>
public sealed class OpenApiEndpoints
{
    public const string ResourceName = "WebhookFunctions.Api.OpenApi.openapi.json";

    private static readonly Lazy<byte[]> Document = new(Load);

    private readonly byte[] _document = Document.Value;

    public static ReadOnlyMemory<byte> Bytes => Document.Value;

    public Task<IResult> GetAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers[HeaderNames.CacheControl] = "public, max-age=300";
        return Task.FromResult<IResult>(TypedResults.Bytes(_document, "application/json; charset=utf-8"));
    }

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiEndpoints).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The OpenAPI document is not embedded as {ResourceName}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
