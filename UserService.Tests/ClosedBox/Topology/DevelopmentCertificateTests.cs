using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

// The certificate annotations are experimental in Aspire 13.6.
#pragma warning disable ASPIRECERTIFICATES001

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// On the default profile nothing in the topology uses TLS, so nothing asks for a development certificate and
/// the dashboard shows no "No trusted development certificate" error on a machine without one. Aspire 13.6
/// shows it when any resource has an https endpoint, or has the configuration that hands it the development
/// certificate (every project and Redis container has it by default) without <c>WithoutHttpsCertificate()</c>.
/// The quick start's test sees the same from the outside, on Garnet; this holds it for every engine.
/// </summary>
public sealed class DevelopmentCertificateTests
{
    [Theory]
    [InlineData("garnet")]
    [InlineData("redis-server")]
    [InlineData("cluster")]
    [InlineData("container")]
    public async Task NoResourceAsksForADevelopmentCertificate(string engine)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"--Cache:Engine={engine}"], cancellation);
        await using var app = await builder.BuildAsync(cancellation);
        var resources = app.Services.GetRequiredService<DistributedApplicationModel>().Resources;

        Assert.All(resources, resource =>
        {
            Assert.DoesNotContain(resource.Annotations.OfType<EndpointAnnotation>(), endpoint => endpoint.UriScheme == "https");
            if (resource.Annotations.OfType<HttpsCertificateConfigurationCallbackAnnotation>().Any())
            {
                var certificate = resource.Annotations.OfType<HttpsCertificateAnnotation>().LastOrDefault();
                Assert.True(
                    certificate is { UseDeveloperCertificate: false, Certificate: null },
                    $"{resource.Name} would be handed the development certificate.");
            }
        });
    }
}
