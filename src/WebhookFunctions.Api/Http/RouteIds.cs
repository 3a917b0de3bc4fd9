using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Api.Http;

/// <summary>Checks route ids before the body is read or storage is touched, so a bad id is reported as such, all at once.</summary>
public static class RouteIds
{
    public static void Require(params (string Field, string Value)[] ids)
    {
        var errors = ids.Where(id => !Ids.IsValid(id.Value)).Select(id => new ErrorDetail(id.Field, "Must be a lowercase UUID")).ToList();
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }
    }
}
