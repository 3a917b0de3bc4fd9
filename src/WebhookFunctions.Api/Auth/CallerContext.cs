using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Api.Auth;

/// <summary>Carries the authenticated <see cref="Caller"/> from the gate to the handler of one request.</summary>
public static class CallerContext
{
    private static readonly object ItemKey = new();

    public static void Set(HttpContext httpContext, Caller caller) => httpContext.Items[ItemKey] = caller;

    /// <summary>The authenticated caller; a handler reached without one answers 401 rather than guess.</summary>
    public static Caller Of(HttpContext httpContext) =>
        httpContext.Items.TryGetValue(ItemKey, out var value) && value is Caller caller
            ? caller
            : throw new ApiException(StatusCodes.Status401Unauthorized);
}
