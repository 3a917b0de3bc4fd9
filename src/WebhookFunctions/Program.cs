using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using WebhookFunctions;
using WebhookFunctions.Api.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseWhen<ApiGateMiddleware>(ApiGateMiddleware.IsHttpInvocation);
builder.Services.AddWebhookApi(builder.Configuration, builder.Environment);

builder.Build().Run();
