using System.Net;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>The OpenAPI document is served everywhere; the interactive reference only in Development.</summary>
public sealed class ApiReferenceTests(GarnetStoreServer garnet) : IAsyncLifetime
{
    private readonly GarnetUserService testing = new(garnet);
    private readonly DevelopmentUserService development = new(garnet);

    public async ValueTask InitializeAsync()
    {
        await testing.InitializeAsync();
        await development.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await testing.DisposeAsync();
        await development.DisposeAsync();
    }

    [Fact]
    public async Task ReferenceUiIsServedInDevelopment()
    {
        using var api = development.CreateClient();

        using var response = await api.GetAsync("/scalar/v1", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ReferenceUiIsNotServedOutsideDevelopmentButTheDocumentIs()
    {
        using var api = testing.CreateApiClient();

        using var ui = await api.GetAsync("/scalar/v1", TestContext.Current.CancellationToken);
        using var document = await api.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, ui.StatusCode);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }
}
