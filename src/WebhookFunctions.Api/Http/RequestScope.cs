using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// What a request has once, from the moment it enters either host: its id (the client's sane
/// <c>x-request-id</c>, or a new one) and its one deadline, which authentication and the handler share.
/// </summary>
public sealed class RequestScope : IDisposable
{
    public const string HeaderName = "x-request-id";
    private const int MaxIdLength = 128;
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:");

    private readonly CancellationTokenSource _deadline;
    private readonly CancellationToken _aborted;

    private RequestScope(string requestId, TimeSpan deadline, CancellationToken aborted)
    {
        RequestId = requestId;
        _aborted = aborted;
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _deadline.CancelAfter(deadline);
    }

    public string RequestId { get; }

    /// <summary>Cancelled when the deadline passes or the client goes away.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>True when the deadline, not the client, ended the request.</summary>
    public bool DeadlineExpired => _deadline.IsCancellationRequested && !_aborted.IsCancellationRequested;

    /// <summary>The request's scope, begun on first call; later calls return the same one.</summary>
    public static RequestScope Begin(HttpContext httpContext, TimeSpan deadline)
    {
        if (httpContext.Features.Get<RequestScope>() is { } existing)
        {
            return existing;
        }

        var supplied = httpContext.Request.Headers[HeaderName];
        var id = supplied.Count == 1 && IsSane(supplied[0]) ? supplied[0]! : Guid.CreateVersion7().ToString();
        var scope = new RequestScope(id, deadline, httpContext.RequestAborted);
        httpContext.Features.Set(scope);
        httpContext.Response.RegisterForDispose(scope);
        httpContext.Response.Headers[HeaderName] = id;
        return scope;
    }

    /// <summary>
    /// The request's id. A response the framework writes before any host code ran (an unrouted path,
    /// a crash in the pipeline) still needs one, so this begins a scope if none has.
    /// </summary>
    public static string IdOf(HttpContext httpContext) =>
        (httpContext.Features.Get<RequestScope>() ?? Begin(httpContext, FallbackDeadline)).RequestId;

    private static readonly TimeSpan FallbackDeadline = TimeSpan.FromSeconds(15);

    internal static bool IsSane(string? value) =>
        value is { Length: > 0 and <= MaxIdLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    public void Dispose() => _deadline.Dispose();
}
