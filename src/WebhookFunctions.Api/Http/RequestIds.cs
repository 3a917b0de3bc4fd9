using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// Gives every request an id, echoing the client's <c>x-request-id</c> when it is sane (short,
/// printable, no separators that could forge log lines or headers).
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "x-request-id";
    private const int MaxLength = 128;
    private static readonly object ItemKey = new();
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    public static string Assign(HttpContext httpContext)
    {
        if (httpContext.Items.TryGetValue(ItemKey, out var existing) && existing is string assigned)
        {
            return assigned;
        }

        var supplied = httpContext.Request.Headers[HeaderName];
        var id = supplied.Count == 1 && IsSane(supplied[0]) ? supplied[0]! : Guid.CreateVersion7().ToString();
        httpContext.Items[ItemKey] = id;
        httpContext.Response.Headers[HeaderName] = id;
        return id;
    }

    public static string Get(HttpContext httpContext) => Assign(httpContext);

    internal static bool IsSane(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);
}
