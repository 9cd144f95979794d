using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace UserService.Users;

public static class UsersApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static IHostApplicationBuilder AddUsers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddValidation();
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, UsersJsonContext.Default));

        return builder;
    }

    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Users");

        users.MapGet("/", ListUsers);
        users.MapGet("/{id:long}", GetUser).WithName(nameof(GetUser));
        users.MapPost("/", CreateUser);

        return users;
    }

    public static async Task<Ok<UserResponse[]>> ListUsers(
        UserStore store,
        [Range(0, long.MaxValue)] long after = 0,
        [Range(1, MaxPageSize)] int limit = DefaultPageSize)
    {
        var page = await store.ListAsync(after, limit);
        return TypedResults.Ok(page.Select(UserResponse.From).ToArray());
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(long id, UserStore store)
    {
        var user = await store.FindAsync(id);
        return user is null
            ? UserNotFound(id)
            : TypedResults.Ok(UserResponse.From(user));
    }

    public static async Task<CreatedAtRoute<UserResponse>> CreateUser(CreateUserRequest request, UserStore store)
    {
        var user = await store.CreateAsync(request.Username, request.Email);
        return TypedResults.CreatedAtRoute(UserResponse.From(user), nameof(GetUser), new { id = user.Id });
    }

    private static ProblemHttpResult UserNotFound(long id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "User not found",
            detail: $"No user has the id {id}.");
}
