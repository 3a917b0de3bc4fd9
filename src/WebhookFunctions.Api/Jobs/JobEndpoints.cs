using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Jobs;

namespace WebhookFunctions.Api.Jobs;

/// <summary>Recovering a webhook's missed deliveries, and reading the job that does it, as host-neutral handlers both hosts call.</summary>
public sealed class JobEndpoints(ApiExecution execution, RecoverService recover)
{
    public Task<IResult> RecoverAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId), ("webhookId", webhookId));
            using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, cancellationToken);
            var request = RecoverRequestParser.Parse(body!.RootElement);
            var (matched, job) = await recover.RecoverAsync(caller, applicationId, webhookId, request, cancellationToken);
            return job is null
                ? ApiResults.Ok(new DryRunResponse(matched ?? 0))
                : ApiResults.Accepted($"/{Routes.Prefix}/v1/jobs/{job.Id}", JobResponse.From(job));
        });

    public Task<IResult> GetAsync(HttpContext httpContext, string jobId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("jobId", jobId));
            return ApiResults.Ok(JobResponse.From(await recover.GetAsync(caller, jobId, cancellationToken)));
        });
}
