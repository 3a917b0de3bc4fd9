using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Api.Auth;

/// <summary>Who is calling: the merchant comes from the key, never from the request.</summary>
public sealed record Caller(string MerchantId, string KeyId)
{
    private static readonly object ItemKey = new();

    public static void Set(HttpContext httpContext, Caller caller) => httpContext.Items[ItemKey] = caller;

    /// <summary>The authenticated caller; a handler reached without one answers 401 rather than guess.</summary>
    public static Caller Of(HttpContext httpContext) =>
        httpContext.Items.TryGetValue(ItemKey, out var value) && value is Caller caller
            ? caller
            : throw new ApiException(StatusCodes.Status401Unauthorized);
}
