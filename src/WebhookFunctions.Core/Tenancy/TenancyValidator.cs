using System.Text.Json;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Validation;

namespace WebhookFunctions.Core.Tenancy;

public sealed record ApplicationDraft(string Name);

public sealed record ApiKeyDraft(string Name, DateTimeOffset? ExpiresAt);

/// <summary>Reads application and API key bodies with the same field rules as every other body.</summary>
public static class TenancyValidator
{
    public static ApplicationDraft ParseApplication(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        string? name = null;
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name == "name")
            {
                name = ReadName(property.Value, errors);
            }
            else
            {
                errors.Add(JsonFields.Unrecognised(property.Name));
            }
        }

        return Result(errors, name, () => new ApplicationDraft(name!));
    }

    public static ApiKeyDraft ParseApiKey(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        string? name = null;
        DateTimeOffset? expiresAt = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "name":
                    name = ReadName(property.Value, errors);
                    break;
                case "expiresAt":
                    expiresAt = property.Value.ValueKind == JsonValueKind.Null ? null : JsonFields.ReadTimestamp(property.Value, "expiresAt", errors);
                    break;
                default:
                    errors.Add(JsonFields.Unrecognised(property.Name));
                    break;
            }
        }

        return Result(errors, name, () => new ApiKeyDraft(name!, expiresAt));
    }

    private static T Result<T>(List<ErrorDetail> errors, string? name, Func<T> build)
    {
        if (name is null && !errors.Exists(e => e.Field == "name"))
        {
            errors.Add(NameRule());
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : build();
    }

    private static string? ReadName(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(NameRule());
            return null;
        }

        var name = JsonFields.ReadString(value, "name", errors);
        if (name is not null && !MerchantService.IsValidName(name))
        {
            errors.Add(NameRule());
            return null;
        }

        return name;
    }

    private static ErrorDetail NameRule() =>
        new("name", $"Is required: a string of 1 to {MerchantService.MaxNameLength} characters with no control characters");
}
