using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WebhookFunctions;
using WebhookFunctions.Api.Hosting;
using WebhookFunctions.Api.Telemetry;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseWhen<ApiGateMiddleware>(ApiGateMiddleware.IsHttpInvocation);
builder.AddWebhookHttpApi();
builder.AddWebhookTelemetry();
// The worker's invocation spans and Functions resource attributes; it also tells the host that the
// worker sends its own telemetry, so the host stops sending it on the worker's behalf.
builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();

builder.Build().Run();
