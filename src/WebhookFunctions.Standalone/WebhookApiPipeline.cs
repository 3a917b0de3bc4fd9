using Microsoft.AspNetCore.Diagnostics;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Standalone;

public static class WebhookApiPipeline
{
    /// <summary>
    /// Request ids, the error envelope for anything the framework answers itself (404, 405, 431, ...)
    /// and the same API-key gate the Functions worker middleware uses.
    /// </summary>
    public static WebApplication UseWebhookApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = context => ApiResults.Error(StatusCodes.Status500InternalServerError).ExecuteAsync(context),
            SuppressDiagnosticsCallback = _ => false,
        });
        app.UseStatusCodePages(context => ApiResults.Error(context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        app.UseRouting();
        app.Use(async (context, next) =>
        {
            var gate = context.RequestServices.GetRequiredService<ApiGate>();
            var operation = context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            if (operation is null)
            {
                // Unrouted: no key is checked, and the status-code page answers with the envelope.
                context.RequestServices.GetRequiredService<ApiExecution>().Begin(context);
                await next(context);
                return;
            }

            var rejection = await gate.EnterAsync(context, operation);
            if (rejection is not null)
            {
                await rejection.ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        return app;
    }
}
