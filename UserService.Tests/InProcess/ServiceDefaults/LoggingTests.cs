using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace UserService.Tests.InProcess.ServiceDefaults;

/// <summary>Log shippers get one JSON object per line, except on a developer's console.</summary>
public sealed class LoggingTests
{
    [Theory]
    [InlineData("Production", ConsoleFormatterNames.Json)]
    [InlineData("Staging", ConsoleFormatterNames.Json)]
    [InlineData("Development", ConsoleFormatterNames.Simple)]
    public void ConsoleFormatDependsOnTheEnvironment(string environment, string formatter)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.AddServiceDefaults();

        using var app = builder.Build();

        Assert.Equal(formatter, app.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName ?? ConsoleFormatterNames.Simple);
    }
}
