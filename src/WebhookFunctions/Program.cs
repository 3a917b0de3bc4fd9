using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using WebhookFunctions;
using WebhookFunctions.Api.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseWhen<ApiGateMiddleware>(ApiGateMiddleware.IsHttpInvocation);
builder.AddWebhookHttpApi();

builder.Build().Run();
