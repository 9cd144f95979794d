using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace UserService.OpenApi;

/// <summary>Makes the document's bounds say exactly what validation enforces.</summary>
internal static class ValidationSchemas
{
    public static Task AlignAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // A Range up to long.MaxValue reaches the document through a double, which rounds above the int64 maximum.
        if (schema.Format == "int64"
            && decimal.TryParse(schema.Maximum, NumberStyles.Float, CultureInfo.InvariantCulture, out var maximum)
            && maximum > long.MaxValue)
        {
            schema.Maximum = long.MaxValue.ToString(CultureInfo.InvariantCulture);
        }

        var attributes = context.JsonPropertyInfo?.AttributeProvider;
        if (attributes is null || schema.Type != JsonSchemaType.String)
        {
            return Task.CompletedTask;
        }

        // Required refuses the empty string, which the generator leaves at a minimum length of 0.
        if (attributes.IsDefined(typeof(RequiredAttribute), inherit: true))
        {
            schema.MinLength = Math.Max(1, schema.MinLength ?? 0);
        }

        if (attributes.GetCustomAttributes(inherit: true).OfType<ISchemaFormat>().FirstOrDefault() is { } format)
        {
            schema.Format = format.Format;
        }

        return Task.CompletedTask;
    }
}

/// <summary>A validation attribute whose values have a format that JSON Schema names (<c>format</c>), such as <c>email</c>.</summary>
public interface ISchemaFormat
{
    string Format { get; }
}
