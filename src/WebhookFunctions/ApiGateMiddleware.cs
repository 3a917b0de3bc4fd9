using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions;

/// <summary>
/// Gives each HTTP invocation its request id and checks its API key through the library's
/// <see cref="ApiGate"/>, the same one the standalone host runs. A rejected request never reaches the
/// function: the 401 envelope becomes the invocation result, which the ASP.NET Core integration writes.
/// </summary>
internal sealed class ApiGateMiddleware(ApiGate gate) : IFunctionsWorkerMiddleware
{
    public static bool IsHttpInvocation(FunctionContext context) =>
        context.FunctionDefinition.InputBindings.Values.Any(binding =>
            string.Equals(binding.Type, "httpTrigger", StringComparison.OrdinalIgnoreCase));

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var httpContext = context.GetHttpContext()
            ?? throw new InvalidOperationException("HTTP invocation without an HttpContext: is ConfigureFunctionsWebApplication missing?");

        var rejection = await gate.EnterAsync(httpContext, context.FunctionDefinition.Name);
        if (rejection is not null)
        {
            context.GetInvocationResult().Value = rejection;
            return;
        }

        await next(context);
    }
}
