using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Api.Telemetry;

/// <summary>
/// Runs first in either host's ASP.NET Core pipeline (the standalone app, and the Functions worker's
/// ASP.NET Core integration), so one piece of code measures every request the same way in both and no
/// handler or domain class has to know about telemetry.
/// </summary>
internal sealed class TelemetryMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var activity = context.Features.Get<IHttpActivityFeature>()?.Activity;
        var recorded = activity is { IsAllDataRequested: true };

        // Begun before anything can fail, so the span carries the id even for errors the framework
        // answers itself. The scope is begun once: the gate and the error envelope later get the same id.
        var requestId = context.RequestServices.GetRequiredService<ApiExecution>().Begin(context).RequestId;
        if (recorded)
        {
            activity!.SetTag(WebhookTelemetry.RequestIdAttribute, requestId);
        }

        var capture = TestResultCapture.AttachIfTestDelivery(context);
        var completed = false;
        try
        {
            await next(context);
            completed = true;
        }
        finally
        {
            if (capture is not null)
            {
                await capture.DetachAsync(context);
            }

            var operation = WebhookTelemetry.OperationOrUnmatched(OperationName(context));
            var status = completed || context.Response.HasStarted ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
            if (recorded)
            {
                activity!.SetTag(WebhookTelemetry.OperationAttribute, operation);
            }

            WebhookTelemetry.RecordRequest(operation, status, Stopwatch.GetElapsedTime(started));

            // A replayed response repeats an earlier one: nothing was created or sent this time.
            if (completed && !context.Response.Headers.ContainsKey(ApiResults.ReplayedHeader))
            {
                RecordEffect(operation, status, capture);
            }
        }
    }

    /// <summary>
    /// The standalone host names its endpoints after the operations; the Functions worker's endpoints
    /// carry the function name, which is the operation name, as their display name. The exception
    /// handler clears the endpoint, but keeps the one that failed.
    /// </summary>
    private static string? OperationName(HttpContext context)
    {
        var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
        return endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? endpoint?.DisplayName;
    }

    private static void RecordEffect(string operation, int status, TestResultCapture? capture)
    {
        switch (operation)
        {
            case ApiOperations.CreateWebhook when status == StatusCodes.Status201Created:
                WebhookTelemetry.RecordWebhookChange("created");
                break;
            case ApiOperations.UpdateWebhook when status == StatusCodes.Status200OK:
                WebhookTelemetry.RecordWebhookChange("updated");
                break;
            case ApiOperations.DeleteWebhook when status == StatusCodes.Status204NoContent:
                WebhookTelemetry.RecordWebhookChange("deleted");
                break;
            case ApiOperations.RotateWebhookSecret when status == StatusCodes.Status200OK:
                WebhookTelemetry.RecordWebhookChange("secret_rotated");
                break;
            case ApiOperations.TestWebhook when status == StatusCodes.Status200OK:
                WebhookTelemetry.RecordTestDelivery(capture?.Outcome() ?? TestResultCapture.Unknown);
                break;
        }
    }
}

/// <summary>Puts <see cref="TelemetryMiddleware"/> in front of whatever pipeline the host builds.</summary>
internal sealed class TelemetryStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<TelemetryMiddleware>();
        next(app);
    };
}
