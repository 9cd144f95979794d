using UserService;
using UserService.OpenApi;
using UserService.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDefaultTransportSecurity();
builder.AddDefaultAuthentication();
builder.AddDefaultRateLimiting();
builder.AddRequestLimits();
builder.AddRedisClient(connectionName: "cache", configureOptions: StoreResilience.Configure);
builder.AddStoreResilience();
builder.AddDefaultProblemDetails();
// A body that does not parse is the caller's mistake: answer 400 with problem details in every
// environment, instead of an exception that the handler below would turn into a 500.
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
builder.AddApiDocument();
builder.AddUsers();

var app = builder.Build();

app.UseDefaultTransportSecurity();
app.UseShutdownSafeRequestBodies();
app.MapDefaultEndpoints();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
// After authentication, so that a caller with a token is limited by who it is rather than where it is.
app.UseRateLimiter();
app.UseAuthorization();
// After authorization, so that only callers allowed to read ever reach a cached answer.
app.UseOutputCache();

app.MapApiDocument();
app.MapUsersApi();

app.Run();
